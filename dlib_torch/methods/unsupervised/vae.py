"""The VAE-based models of disentanglement_lib and the loss terms they share.

Every model minimises reconstruction_loss + regularizer, both averaged over the batch; the reconstruction
loss is summed over pixels and the KL divergence over latent dimensions. To add a model, subclass `BaseVAE`
and override `regularizer` (see dlib_torch/examples/example.py).
"""
import math

import gin
import torch
from torch import nn

from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import gaussian_encoder_model
from dlib_torch.training import optimizers
from dlib_torch.utils import validation


class BaseVAE(gaussian_encoder_model.GaussianEncoderModel):
    """A Gaussian-encoder model trained on reconstruction_loss + regularizer(kl_loss, z_mean, z_logvar, z).

    Subclasses set their hyperparameters in `__init__` and override `regularizer`. The global step of the
    current batch is `self.global_step` (TF's `tf.train.get_global_step()`).
    """

    def build(self, observation_shape, factors_num_values=None):
        """Creates the configured encoder and decoder for observations of `observation_shape` [H, W, C]."""
        del factors_num_values
        if "_modules" not in self.__dict__:
            # A subclass written like the reference's examples, whose __init__ skips super().__init__().
            nn.Module.__init__(self)
        self.observation_shape = list(observation_shape)
        self.encoder = architectures.make_gaussian_encoder(self.observation_shape)
        self.num_latent = self.encoder.num_latent
        self.decoder = architectures.make_decoder(self.num_latent, self.observation_shape)
        self.global_step = 0
        return self

    def gaussian_encoder(self, observations):
        return self.encoder(observations)

    def decode(self, latent_tensor):
        return self.decoder(latent_tensor)

    def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        """The model's regulariser (a scalar tensor); loss = reconstruction_loss + regularizer."""
        raise NotImplementedError()

    def make_optimizers(self):
        return [optimizers.make_vae_optimizer(self.parameters())]

    def model_fn(self, observations, global_step, factors=None):
        """Forward pass and losses on a batch of images; returns ([loss], scalars with the reference's keys)."""
        del factors
        self.global_step = global_step
        z_mean, z_logvar = self.gaussian_encoder(observations)
        z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar)
        reconstructions = self.decode(z_sampled)
        reconstruction_loss = losses.make_reconstruction_loss(observations, reconstructions).mean()
        kl_loss = compute_gaussian_kl(z_mean, z_logvar)
        regularizer = self.regularizer(kl_loss, z_mean, z_logvar, z_sampled)
        loss = reconstruction_loss + regularizer
        elbo = reconstruction_loss + kl_loss
        return [loss], {"loss": loss, "reconstruction_loss": reconstruction_loss, "elbo": -elbo,
                        "regularizer": regularizer, "kl_loss": kl_loss}

    def exported_modules(self):
        """The TorchScript exports of DESIGN §3: the Gaussian encoder and the decoder."""
        device = next(self.parameters()).device
        return {
            "gaussian_encoder.pt": (self.encoder, torch.zeros([1] + self.observation_shape, device=device)),
            "decoder.pt": (self.decoder, torch.zeros([1, self.num_latent], device=device)),
        }


def compute_gaussian_kl(z_mean, z_logvar):
    """KL(N(z_mean, exp(z_logvar)) || N(0, I)), summed over dimensions and averaged over the batch."""
    return torch.mean(0.5 * torch.sum(z_mean.square() + torch.exp(z_logvar) - z_logvar - 1, dim=1))


@gin.configurable("vae")
class BetaVAE(BaseVAE):
    """beta-VAE (Higgins et al., https://openreview.net/forum?id=Sy2fzU9gl, Eq. 4): regularizer = beta * KL
    (+ the HFS regulariser of the posterior means with `vae.hfs = @hfs()`, hfs.py)."""

    def __init__(self, beta=gin.REQUIRED, hfs=None):
        super().__init__()
        self.beta = validation.check_float("vae.beta", beta, minimum=0)
        self.hfs = hfs

    def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        del z_logvar, z_sampled
        regularizer = self.beta * kl_loss
        return regularizer if self.hfs is None else regularizer + self.hfs(z_mean)


def anneal(c_max, step, iteration_threshold):
    """Capacity of AnnealedVAE: grows linearly from 0 at step 0 to c_max at `iteration_threshold`, then stays."""
    return min(c_max * 1.0, c_max * 1.0 * float(step) / iteration_threshold)


@gin.configurable("annealed_vae")
class AnnealedVAE(BaseVAE):
    """AnnealedVAE, the CCI-VAE of Burgess et al. (https://arxiv.org/abs/1804.03599, Eq. 8).

    regularizer = gamma * |KL - C|, where the capacity C = anneal(c_max, global_step, iteration_threshold).
    """

    def __init__(self, gamma=gin.REQUIRED, c_max=gin.REQUIRED, iteration_threshold=gin.REQUIRED):
        super().__init__()
        self.gamma = validation.check_float("annealed_vae.gamma", gamma, minimum=0)
        self.c_max = validation.check_float("annealed_vae.c_max", c_max, minimum=0)
        self.iteration_threshold = validation.check_int("annealed_vae.iteration_threshold", iteration_threshold,
                                                        minimum=1)

    def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        del z_mean, z_logvar, z_sampled
        capacity = anneal(self.c_max, self.global_step, self.iteration_threshold)
        return self.gamma * torch.abs(kl_loss - capacity)


def shuffle_codes(z):
    """Permutes each latent dimension independently across the batch (samples of prod_j q(z_j))."""
    permutation = torch.argsort(torch.rand(z.shape, device=z.device), dim=0)
    return torch.gather(z, 0, permutation)


class TotalCorrelationDiscriminator:
    """FactorVAE's discriminator (Kim & Mnih), mixed into a VAE class before it (`FactorVAE`, the semi-supervised
    `S2FactorVAE`): built beside the encoder, trained by `discriminator_optimizer`, and, as in the reference, one
    iteration advancing the global step by 2 unless `double_count_global_step` is False."""

    @property
    def global_step_increment(self):
        return 2 if self.double_count_global_step else 1

    def build(self, observation_shape, factors_num_values=None):
        super().build(observation_shape, factors_num_values)
        self.discriminator = architectures.make_discriminator(self.num_latent)
        return self

    def make_optimizers(self):
        vae_parameters = list(self.encoder.parameters()) + list(self.decoder.parameters())
        return [optimizers.make_vae_optimizer(vae_parameters),
                optimizers.make_discriminator_optimizer(self.discriminator.parameters())]

    def total_correlation(self, z_sampled):
        """(TC estimate, discriminator objective) of codes z: TC = mean(logits[:, 0] - logits[:, 1]) of z; the
        discriminator maximises 0.5 * mean log p(real | z) + 0.5 * mean log p(shuffled | shuffle_codes(z))."""
        z_shuffle = shuffle_codes(z_sampled)
        logits_z, probs_z = self.discriminator(z_sampled)
        _, probs_z_shuffle = self.discriminator(z_shuffle)
        tc_loss = torch.mean(logits_z[:, 0] - logits_z[:, 1])
        discriminator_objective = (0.5 * torch.mean(torch.log(probs_z[:, 0]))
                                   + 0.5 * torch.mean(torch.log(probs_z_shuffle[:, 1])))
        return tc_loss, discriminator_objective


@gin.configurable("factor_vae")
class FactorVAE(TotalCorrelationDiscriminator, BaseVAE):
    """FactorVAE (Kim & Mnih, https://arxiv.org/abs/1802.05983, Eq. 2): loss = recon + KL + gamma * TC.

    TC is estimated by a discriminator between codes z and `shuffle_codes(z)` of the same batch:
    TC = mean(logits[:, 0] - logits[:, 1]). The VAE loss is minimised over the encoder and decoder by
    `vae_optimizer`; the discriminator maximises 0.5 * mean log p(real | z) + 0.5 * mean log p(shuffled |
    z_shuffle) with `discriminator_optimizer`. Both updates use gradients of the same forward pass.

    Parity quirk: the reference passes the global step to both optimizers, so one iteration advances the
    global step by 2 and `model.training_steps = 300000` trains 150000 iterations. This is reproduced by
    default; `factor_vae.double_count_global_step = False` counts one step per iteration instead.
    """

    def __init__(self, gamma=gin.REQUIRED, double_count_global_step=True):
        super().__init__()
        self.gamma = validation.check_float("factor_vae.gamma", gamma, minimum=0)
        self.double_count_global_step = validation.check_bool("factor_vae.double_count_global_step",
                                                              double_count_global_step)

    def model_fn(self, observations, global_step, factors=None):
        """Returns ([VAE loss, discriminator loss], scalars); the reference reports no ELBO for FactorVAE."""
        del factors
        self.global_step = global_step
        z_mean, z_logvar = self.gaussian_encoder(observations)
        z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar)
        tc_loss, discriminator_objective = self.total_correlation(z_sampled)
        reconstructions = self.decode(z_sampled)
        reconstruction_loss = losses.make_reconstruction_loss(observations, reconstructions).mean()
        kl_loss = compute_gaussian_kl(z_mean, z_logvar)
        regularizer = kl_loss + self.gamma * tc_loss
        factor_vae_loss = reconstruction_loss + kl_loss + self.gamma * tc_loss
        return [factor_vae_loss, -discriminator_objective], {
            "loss": factor_vae_loss, "reconstruction_loss": reconstruction_loss, "regularizer": regularizer,
            "kl_loss": kl_loss}


def compute_covariance_z_mean(z_mean):
    """Covariance of the encoder means over the batch, E[mu mu^T] - E[mu] E[mu]^T (biased), [D, D]."""
    expectation_z_mean_z_mean_t = torch.mean(z_mean.unsqueeze(2) * z_mean.unsqueeze(1), dim=0)
    expectation_z_mean = torch.mean(z_mean, dim=0)
    return expectation_z_mean_z_mean_t - expectation_z_mean.unsqueeze(1) * expectation_z_mean.unsqueeze(0)


def regularize_diag_off_diag_dip(covariance_matrix, lambda_od, lambda_d):
    """DIP penalty: lambda_od * sum of squared off-diagonal entries + lambda_d * sum (diagonal - 1)^2."""
    diagonal = torch.diagonal(covariance_matrix)
    off_diagonal = covariance_matrix - torch.diag(diagonal)
    return lambda_od * torch.sum(off_diagonal.square()) + lambda_d * torch.sum((diagonal - 1).square())


@gin.configurable("dip_vae")
class DIPVAE(BaseVAE):
    """DIP-VAE (Kumar et al., https://openreview.net/pdf?id=H1kG7GZAW, Eqs. 6 and 7).

    regularizer = KL + DIP penalty of C, with lambda_d = lambda_d_factor * lambda_od; C = Cov[mu] for type
    'i' and E[diag(exp(logvar))] + Cov[mu] for type 'ii'.
    """

    def __init__(self, lambda_od=gin.REQUIRED, lambda_d_factor=gin.REQUIRED, dip_type="i"):
        super().__init__()
        self.dip_type = validation.check_choice("dip_vae.dip_type", dip_type, ("i", "ii"))
        self.lambda_od = validation.check_float("dip_vae.lambda_od", lambda_od, minimum=0)
        self.lambda_d_factor = validation.check_float("dip_vae.lambda_d_factor", lambda_d_factor, minimum=0)

    def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        del z_sampled
        cov_z_mean = compute_covariance_z_mean(z_mean)
        lambda_d = self.lambda_d_factor * self.lambda_od
        if self.dip_type == "i":
            covariance = cov_z_mean
        else:
            covariance = torch.diag(torch.mean(torch.exp(z_logvar), dim=0)) + cov_z_mean
        return kl_loss + regularize_diag_off_diag_dip(covariance, self.lambda_od, lambda_d)


def gaussian_log_density(samples, mean, log_var):
    """Elementwise log N(samples; mean, exp(log_var))."""
    samples = torch.as_tensor(samples)
    mean = torch.as_tensor(mean, dtype=samples.dtype, device=samples.device)
    log_var = torch.as_tensor(log_var, dtype=samples.dtype, device=samples.device)
    normalization = math.log(2.0 * math.pi)
    inv_sigma = torch.exp(-log_var)
    difference = samples - mean
    return -0.5 * (difference * difference * inv_sigma + log_var + normalization)


def total_correlation(z, z_mean, z_logvar):
    """Minibatch estimate of the total correlation of q(z) (Chen et al., https://arxiv.org/abs/1802.04942).

    E_j[log q(z_j) - sum_l log q(z_jl)], with q(z_j) ~ sum_i q(z_j | x_i). As in the reference, the constants
    are dropped: the estimate is off by (num_latent - 1) * log(batch_size * dataset_size).
    """
    # log q(z_j | x_i) per dimension, indexed [j, i, l].
    log_qz_prob = gaussian_log_density(z.unsqueeze(1), z_mean.unsqueeze(0), z_logvar.unsqueeze(0))
    log_qz_product = torch.sum(torch.logsumexp(log_qz_prob, dim=1), dim=1)
    log_qz = torch.logsumexp(torch.sum(log_qz_prob, dim=2), dim=1)
    return torch.mean(log_qz - log_qz_product)


@gin.configurable("beta_tc_vae")
class BetaTCVAE(BaseVAE):
    """beta-TC-VAE (Chen et al., https://arxiv.org/abs/1802.04942, Eq. 5 with alpha = gamma = 1).

    regularizer = KL + (beta - 1) * TC (+ the HFS regulariser of the posterior means with `beta_tc_vae.hfs = @hfs()`).
    """

    def __init__(self, beta=gin.REQUIRED, hfs=None):
        super().__init__()
        self.beta = validation.check_float("beta_tc_vae.beta", beta, minimum=0)
        self.hfs = hfs

    def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        regularizer = (self.beta - 1.0) * total_correlation(z_sampled, z_mean, z_logvar) + kl_loss
        return regularizer if self.hfs is None else regularizer + self.hfs(z_mean)
