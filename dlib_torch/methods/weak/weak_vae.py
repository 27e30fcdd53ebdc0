"""The weakly-supervised VAEs of "Weakly-Supervised Disentanglement Without Compromises" (Locatello et al.,
https://arxiv.org/abs/2002.02886): a pair of observations sharing all but a few factors is encoded, the
posteriors of the shared dimensions are aggregated, and both observations are reconstructed from samples of
the aggregated posteriors.

  loss = 0.5 * (rec1 + rec2) + beta * 0.5 * (KL1 + KL2), KL of the aggregated posteriors.

Aggregation of the posterior (group_vae: averaged, Hosoya https://arxiv.org/abs/1809.02383; mlvae: product of
experts, Bouchacourt et al. https://arxiv.org/abs/1705.08841) happens on the dimensions judged shared: `_labels`
variants keep their own posterior on the latent dimension whose index is the changed factor's label; `_argmax`
variants keep it on the dimensions whose divergence between the two posteriors falls in the upper of two
equal-width bins (an adaptive threshold, no label needed).
"""
import gin
import numpy as np
import torch

from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import vae
from dlib_torch.methods.weak import weak_pairs
from dlib_torch.utils import validation



def _non_negative(model, parameter, value):
    """A model's hyperparameter checked before any work, named as gin names it (e.g. `s2_vae.beta`)."""
    return validation.check_float("{}.{}".format(validation.configurable_name(type(model)), parameter), value,
                                  minimum=0)

class WeakVAEBase(vae.BaseVAE):
    """A beta-VAE trained on pairs; subclasses say how the pair's posterior is averaged and where it is used."""

    def __init__(self, beta=gin.REQUIRED):
        super().__init__()
        self.beta = _non_negative(self, "beta", beta)

    def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        del z_mean, z_logvar, z_sampled
        return self.beta * kl_loss

    def sample_batch(self, dataset, batch_size, random_state, device):
        """Pairs as the reference's weak data set: (labels [B] int64, observations [B, 2H, W, C])."""
        observations, labels = weak_pairs.sample_weak_pairs(dataset, batch_size, random_state)
        return (torch.from_numpy(labels).to(device),
                torch.from_numpy(np.asarray(observations, dtype=np.float32)).to(device))

    def average_posterior(self, z_mean_1, z_logvar_1, z_mean_2, z_logvar_2):
        """The pair's common posterior (mean, log variance)."""
        raise NotImplementedError()

    def aggregate(self, z_mean, z_logvar, new_mean, new_log_var, labels, kl_per_point):
        """The posterior one observation of the pair is decoded from."""
        raise NotImplementedError()

    def model_fn(self, observations, global_step, factors=None):
        """Losses of a batch of pairs (stacked along the height), `factors` the changed factor of each pair."""
        self.global_step = global_step
        labels = factors
        height = observations.shape[1] // 2
        batch_size = observations.shape[0]
        # One encoder call for both halves of the pairs (per-sample layers only, so the same values).
        z_means, z_logvars = self.gaussian_encoder(
            torch.cat([observations[:, :height], observations[:, height:]], dim=0))
        z_mean, z_mean_2 = z_means[:batch_size], z_means[batch_size:]
        z_logvar, z_logvar_2 = z_logvars[:batch_size], z_logvars[batch_size:]
        # TF's one_hot: a label beyond the latent dimensions gives an all-zero row (torch's one_hot would raise).
        labels_one_hot = (labels.long().unsqueeze(1) == torch.arange(z_mean.shape[1], device=labels.device)
                          ).to(z_mean.dtype)
        kl_per_point = compute_kl(z_mean, z_mean_2, z_logvar, z_logvar_2)
        new_mean, new_log_var = self.average_posterior(z_mean, z_logvar, z_mean_2, z_logvar_2)
        mean_sample_1, log_var_sample_1 = self.aggregate(z_mean, z_logvar, new_mean, new_log_var, labels_one_hot,
                                                         kl_per_point)
        mean_sample_2, log_var_sample_2 = self.aggregate(z_mean_2, z_logvar_2, new_mean, new_log_var,
                                                         labels_one_hot, kl_per_point)
        z_sampled = self.sample_from_latent_distribution(torch.cat([mean_sample_1, mean_sample_2], dim=0),
                                                         torch.cat([log_var_sample_1, log_var_sample_2], dim=0))
        reconstructions = self.decode(z_sampled)
        per_sample_loss = losses.make_reconstruction_loss(
            torch.cat([observations[:, :height], observations[:, height:]], dim=0), reconstructions)
        reconstruction_loss = (0.5 * per_sample_loss[:batch_size].mean()
                               + 0.5 * per_sample_loss[batch_size:].mean())
        kl_loss = (0.5 * vae.compute_gaussian_kl(mean_sample_1, log_var_sample_1)
                   + 0.5 * vae.compute_gaussian_kl(mean_sample_2, log_var_sample_2))
        regularizer = self.regularizer(kl_loss, None, None, None)
        loss = reconstruction_loss + regularizer
        elbo = reconstruction_loss + kl_loss
        return [loss], {"loss": loss, "reconstruction_loss": reconstruction_loss, "elbo": -elbo,
                        "regularizer": regularizer, "kl_loss": kl_loss}


def aggregate_labels(z_mean, z_logvar, new_mean, new_log_var, labels, kl_per_point):
    """Keeps the observation's own posterior where the one-hot `labels` row takes its maximum, else the pair's.

    As in the reference, a label beyond the latent dimensions (an all-zero row) keeps the own posterior everywhere.
    """
    del kl_per_point
    keep = labels == labels.max(dim=1, keepdim=True).values
    return torch.where(keep, z_mean, new_mean), torch.where(keep, z_logvar, new_log_var)


def aggregate_argmax(z_mean, z_logvar, new_mean, new_log_var, labels, kl_per_point):
    """Keeps the own posterior on the dimensions whose divergence lies in the upper of two equal-width bins."""
    del labels
    keep = discretize_in_bins(kl_per_point) == 1
    return torch.where(keep, z_mean, new_mean), torch.where(keep, z_logvar, new_log_var)


def discretize_in_bins(x):
    """Per row, the bin (0 or 1) of each value in two equal-width bins spanning [min, max] of the row, as TF's
    histogram_fixed_width_bins (a constant row, whose width is 0, falls in bin 0)."""
    low = x.min(dim=1, keepdim=True).values
    high = x.max(dim=1, keepdim=True).values
    scaled = (x - low) / (high - low)
    bins = torch.floor(2.0 * scaled).clamp(0, 1)
    return torch.where(torch.isnan(bins), torch.zeros_like(bins), bins).long()


def compute_kl(z_1, z_2, logvar_1, logvar_2):
    """Per-dimension divergence between the two posteriors, as the reference computes it (twice the KL)."""
    var_1 = torch.exp(logvar_1)
    var_2 = torch.exp(logvar_2)
    return var_1 / var_2 + torch.square(z_2 - z_1) / var_2 - 1 + logvar_2 - logvar_1


@gin.configurable("group_vae")
class GroupVAEBase(WeakVAEBase):
    """Group-VAE: the pair's posterior is the average N((mu1 + mu2) / 2, (var1 + var2) / 2)."""

    def average_posterior(self, z_mean_1, z_logvar_1, z_mean_2, z_logvar_2):
        new_mean = 0.5 * z_mean_1 + 0.5 * z_mean_2
        new_log_var = torch.log(0.5 * torch.exp(z_logvar_1) + 0.5 * torch.exp(z_logvar_2))
        return new_mean, new_log_var


@gin.configurable("group_vae_labels")
class GroupVAELabels(GroupVAEBase):
    """Group-VAE told which factor changed (the latent dimension of that index is not shared)."""

    aggregate = staticmethod(aggregate_labels)


@gin.configurable("group_vae_argmax")
class GroupVAEArgmax(GroupVAEBase):
    """Group-VAE without labels: the dimensions that changed are estimated adaptively."""

    aggregate = staticmethod(aggregate_argmax)


@gin.configurable("mlvae")
class MLVae(WeakVAEBase):
    """ML-VAE: the pair's posterior is the product of the two, var = 2 v1 v2 / (v1 + v2),
    mean = (mu1 / v1 + mu2 / v2) * var / 2 (the reference's normalisation)."""

    def average_posterior(self, z_mean_1, z_logvar_1, z_mean_2, z_logvar_2):
        var_1 = torch.exp(z_logvar_1)
        var_2 = torch.exp(z_logvar_2)
        new_var = 2 * var_1 * var_2 / (var_1 + var_2)
        new_mean = (z_mean_1 / var_1 + z_mean_2 / var_2) * new_var * 0.5
        return new_mean, torch.log(new_var)


@gin.configurable("mlvae_labels")
class MLVaeLabels(MLVae):
    """ML-VAE told which factor changed."""

    aggregate = staticmethod(aggregate_labels)


@gin.configurable("mlvae_argmax")
class MLVaeArgmax(MLVae):
    """ML-VAE without labels."""

    aggregate = staticmethod(aggregate_argmax)
