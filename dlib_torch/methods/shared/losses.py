"""Reconstruction losses of disentanglement_lib, per sample (summed over pixels).

The decoder always outputs raw values ("logits"); `activation` says how they become pixel intensities:
'logits' applies a sigmoid, 'tanh' maps tanh(x) / 2 + 0.5.
"""
import gin
import torch
from torch.nn import functional as F

from dlib_torch.utils.errors import ConfigError

_CLIP = 1e-6


def _check_activation(activation):
    if activation not in ("logits", "tanh"):
        raise ConfigError("reconstruction_loss.activation must be 'logits' or 'tanh', not {!r}".format(activation))


def _binary_entropy(probs):
    """Entropy of Bernoulli variables with the given probabilities (elementwise)."""
    return -(probs * torch.log(probs) + (1 - probs) * torch.log1p(-probs))


@gin.configurable("bernoulli_loss", allowlist=["subtract_true_image_entropy"])
def bernoulli_loss(true_images, reconstructed_images, activation, subtract_true_image_entropy=False):
    """Bernoulli negative log-likelihood of the (possibly non-binary) true images, [B].

    With `subtract_true_image_entropy`, the entropy of the true images (the loss's lower bound when they are
    not binary) is subtracted, so a perfect reconstruction scores 0.
    """
    _check_activation(activation)
    batch_size = true_images.shape[0]
    true_flat = true_images.reshape(batch_size, -1)
    reconstructed_flat = reconstructed_images.reshape(batch_size, -1)
    if activation == "logits":
        loss = F.binary_cross_entropy_with_logits(reconstructed_flat, true_flat, reduction="none").sum(dim=1)
    else:
        probs = (torch.tanh(reconstructed_flat) / 2 + 0.5).clamp(_CLIP, 1 - _CLIP)
        loss = -(true_flat * torch.log(probs) + (1 - true_flat) * torch.log(1 - probs)).sum(dim=1)
    if subtract_true_image_entropy:
        loss = loss - _binary_entropy(true_flat.clamp(_CLIP, 1 - _CLIP)).sum(dim=1)
    return loss


@gin.configurable("l2_loss", allowlist=[])
def l2_loss(true_images, reconstructed_images, activation):
    """Squared error between the true images and the decoded intensities, summed over pixels, [B]."""
    _check_activation(activation)
    if activation == "logits":
        intensities = torch.sigmoid(reconstructed_images)
    else:
        intensities = torch.tanh(reconstructed_images) / 2 + 0.5
    batch_size = true_images.shape[0]
    return (true_images - intensities).square().reshape(batch_size, -1).sum(dim=1)


@gin.configurable("reconstruction_loss", denylist=["true_images", "reconstructed_images"])
def make_reconstruction_loss(true_images, reconstructed_images, loss_fn=gin.REQUIRED, activation="logits"):
    """The configured per-sample reconstruction loss, [B] (`reconstruction_loss.loss_fn`, `.activation`)."""
    return loss_fn(true_images, reconstructed_images, activation)
