"""QLVAE, the quantized-latent VAE of Hsu et al. (NeurIPS 2023, https://arxiv.org/abs/2305.18378): a VAE whose
posterior sample is quantized per dimension (latent_quantization.py) before decoding. Select it with
`model.model = @qlvae()`; networks as every model (`encoder.*`, `decoder.*`), optimizer `qlae_optimizer`.

The authors' public code has no QLVAE class; this combines their two pieces as the paper describes: the VAE of
their code (`models/vae.py`: KL of a diagonal Gaussian to N(0, I), weighted beta * num_latent / num_pixels because
their reconstruction is a mean over pixels and their KL a mean over dimensions) and the quantized latent of QLAE:
  z ~ N(mean, exp(logvar));  z_hat = z + stop_gradient(q(z) - z);  x_hat = decoder(z_hat)
  loss = reconstruction_loss / num_pixels + beta * kl_loss / num_pixels
         + quantization_weight * quantization_loss(z, q(z)) + commitment_weight * commitment_loss(z, q(z))
Records: `loss`, `reconstruction_loss` (summed over pixels), `kl_loss`, `elbo`, `quantization_loss`,
`commitment_loss`. Export: `gaussian_encoder.pt` returns the quantized posterior mean and the posterior's log
variance.
"""
import math

import gin
import torch

from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import gaussian_encoder_model
from dlib_torch.methods.unsupervised import latent_quantization
from dlib_torch.methods.unsupervised import qlae
from dlib_torch.methods.unsupervised import vae
from dlib_torch.utils import validation


@gin.configurable("qlvae")
class QLVAE(gaussian_encoder_model.GaussianEncoderModel):
    """Quantized-latent VAE: sample the Gaussian posterior, quantize the sample (straight-through), decode."""

    def __init__(self, beta=gin.REQUIRED, num_values_per_latent=10, quantization_weight=0.01,
                 commitment_weight=0.01, optimize_values=True):
        super().__init__()
        self.beta = validation.check_float("qlvae.beta", beta, minimum=0)
        (self.num_values_per_latent, self.quantization_weight, self.commitment_weight,
         self.optimize_values) = qlae.check_weights("qlvae", num_values_per_latent, quantization_weight,
                                                    commitment_weight, optimize_values)

    def build(self, observation_shape, factors_num_values=None):
        """Creates the configured encoder and decoder and one codebook per latent dimension."""
        del factors_num_values
        self.observation_shape = list(observation_shape)
        self.num_pixels = math.prod(self.observation_shape)
        self.encoder = architectures.make_gaussian_encoder(self.observation_shape)
        self.num_latent = self.encoder.num_latent
        self.quantizer = latent_quantization.ScalarQuantizer(self.num_latent, self.num_values_per_latent,
                                                             self.optimize_values)
        self.decoder = architectures.make_decoder(self.num_latent, self.observation_shape)
        self.global_step = 0
        return self

    def gaussian_encoder(self, observations):
        """(quantized posterior mean, posterior log variance)."""
        z_mean, z_logvar = self.encoder(observations)
        quantized, _ = self.quantizer.quantize(z_mean)
        return quantized, z_logvar

    def decode(self, latent_tensor):
        return self.decoder(latent_tensor)

    def make_optimizers(self):
        return [qlae.make_qlae_optimizer(list(self.named_parameters()))]

    def model_fn(self, observations, global_step, factors=None):
        """Objective and scalars of a batch of images (see the module docstring)."""
        del factors
        self.global_step = global_step
        z_mean, z_logvar = self.encoder(observations)
        z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar)
        z_hat, z_quantized = self.quantizer(z_sampled)
        reconstructions = self.decoder(z_hat)
        reconstruction_loss = losses.make_reconstruction_loss(observations, reconstructions).mean()
        kl_loss = vae.compute_gaussian_kl(z_mean, z_logvar)
        objective, quantization, commitment = qlae.quantized_objective(
            reconstruction_loss, self.num_pixels, z_sampled, z_quantized, self.quantization_weight,
            self.commitment_weight)
        loss = objective + self.beta * kl_loss / self.num_pixels
        return [loss], {"loss": loss, "reconstruction_loss": reconstruction_loss, "kl_loss": kl_loss,
                        "elbo": -(reconstruction_loss + kl_loss), "quantization_loss": quantization,
                        "commitment_loss": commitment}

    def exported_modules(self):
        device = next(self.parameters()).device
        encoder = latent_quantization.QuantizedEncoder(self.encoder, self.quantizer, constant_log_variance=False)
        return {
            "gaussian_encoder.pt": (encoder, torch.zeros([1] + self.observation_shape, device=device)),
            "decoder.pt": (self.decoder, torch.zeros([1, self.num_latent], device=device)),
        }

