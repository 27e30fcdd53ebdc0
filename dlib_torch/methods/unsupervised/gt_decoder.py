"""The ground-truth decoder of Montero et al., "The Role of Disentanglement in Generalisation" (ICLR 2021).

A decoder trained to draw the image of given factor values, with the same reconstruction loss as the VAEs:
a model whose "latent space" is the ground truth, so its generalisation to held-out combinations is the
best a perfectly disentangled encoder could hope for. Select it with `model.model = @gt_decoder()`; the
architecture is `decoder.decoder_fn` and the optimizer `vae_optimizer`.

Its input is the factor indices scaled to [0, 1] per factor, index / (num_values - 1), and 0 for a factor
with a single value (the paper's code fed raw, unscaled factor values; scaling makes one architecture fit
every data set). It exports only `exported/decoder.pt`: scaled factors [B, num_factors] -> logits [B, H, W, C].
Its `train` results have `loss` (= `reconstruction_loss`), `reconstruction_loss` and `global_step`; it has no
posterior, so no `elbo`, `kl_loss` or `regularizer`.
"""
import gin
import numpy as np
import torch
from torch import nn

from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import losses
from dlib_torch.methods.shared import optimizers


def factor_scales(factors_num_values):
    """Per-factor multipliers that map indices to [0, 1]: 1 / (num_values - 1), or 0 for a single value."""
    sizes = np.asarray(factors_num_values, dtype=np.float64)
    return np.where(sizes > 1, 1.0 / np.maximum(sizes - 1, 1), 0.0).astype(np.float32)


def scaled_factor_inputs(factors, factors_num_values):
    """The decoder's input for integer factors [B, num_factors]: float32 indices scaled to [0, 1]."""
    return np.asarray(factors, dtype=np.float32) * factor_scales(factors_num_values)


@gin.configurable("gt_decoder")
class GroundTruthDecoder(nn.Module):
    """Decoder from scaled ground-truth factors to image logits, trained on the reconstruction loss only."""

    needs_factors = True
    global_step_increment = 1

    def build(self, observation_shape, factors_num_values):
        """Creates the configured decoder for `len(factors_num_values)` inputs and images of `observation_shape`."""
        self.observation_shape = list(observation_shape)
        self.num_factors = len(factors_num_values)
        self.register_buffer("factor_scale", torch.from_numpy(factor_scales(factors_num_values)))
        self.decoder = architectures.make_decoder(self.num_factors, self.observation_shape)
        return self

    def make_optimizers(self):
        return [optimizers.make_vae_optimizer(self.decoder.parameters())]

    def model_fn(self, observations, global_step, factors):
        """Reconstruction loss of the images drawn from their factors; returns ([loss], scalars)."""
        del global_step
        reconstructions = self.decoder(factors.to(self.factor_scale.dtype) * self.factor_scale)
        reconstruction_loss = losses.make_reconstruction_loss(observations, reconstructions).mean()
        return [reconstruction_loss], {"loss": reconstruction_loss, "reconstruction_loss": reconstruction_loss}

    def exported_modules(self):
        example = torch.zeros([1, self.num_factors], device=self.factor_scale.device)
        return {"decoder.pt": (self.decoder, example)}
