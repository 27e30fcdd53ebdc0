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
import gin

from dlib_torch.methods.unsupervised import latent_quantization
from dlib_torch.methods.unsupervised import qlae
from dlib_torch.methods.unsupervised import vae
from dlib_torch.utils import validation


@gin.configurable("qlvae")
class QLVAE(qlae.QuantizedLatentModel):
    """Quantized-latent VAE: sample the Gaussian posterior, quantize the sample (straight-through), decode."""

    def __init__(self, beta=gin.REQUIRED, num_values_per_latent=10, quantization_weight=0.01,
                 commitment_weight=0.01, optimize_values=True):
        super().__init__()
        self.beta = validation.check_float("qlvae.beta", beta, minimum=0)
        (self.num_values_per_latent, self.quantization_weight, self.commitment_weight,
         self.optimize_values) = qlae.check_weights("qlvae", num_values_per_latent, quantization_weight,
                                                    commitment_weight, optimize_values)

    def gaussian_encoder(self, observations):
        """(quantized posterior mean, posterior log variance)."""
        z_mean, z_logvar = self.encoder(observations)
        quantized, _ = self.quantizer.quantize(z_mean)
        return quantized, z_logvar

    def model_fn(self, observations, global_step, factors=None):
        """Objective and scalars of a batch of images (see the module docstring)."""
        del factors
        self.global_step = global_step
        z_mean, z_logvar = self.encoder(observations)
        z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar)
        objective, reconstruction_loss, quantization, commitment = self.reconstruct_quantized(observations, z_sampled)
        kl_loss = vae.compute_gaussian_kl(z_mean, z_logvar)
        loss = objective + self.beta * kl_loss / self.num_pixels
        return [loss], {"loss": loss, "reconstruction_loss": reconstruction_loss, "kl_loss": kl_loss,
                        "elbo": -(reconstruction_loss + kl_loss), "quantization_loss": quantization,
                        "commitment_loss": commitment}

    def exported_encoder(self):
        return latent_quantization.QuantizedEncoder(self.encoder, self.quantizer, constant_log_variance=False)
