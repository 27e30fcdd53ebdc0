"""QLAE, the quantized-latent autoencoder of Hsu et al. (NeurIPS 2023, https://arxiv.org/abs/2305.18378): a
deterministic autoencoder whose codes are quantized per dimension (latent_quantization.py), trained with strong
weight decay. Select it with `model.model = @qlae()`; the networks are `encoder.encoder_fn` / `decoder.decoder_fn`
(the encoder's means are the continuous codes; its log-variance head is unused) and the optimizer `qlae_optimizer`.

Objective, as the authors' `QuantizedAE.batched_loss` (reconstruction averaged over pixels, not summed):
  loss = reconstruction_loss / num_pixels + quantization_weight * quantization_loss
         + commitment_weight * commitment_loss
Optimizer, as their `construct_optimizer`: weights get elementwise gradient clipping then AdamW with decoupled
weight decay; biases and codebook values get plain Adam (no clipping, no decay).
Records: `loss` (the objective above), `reconstruction_loss` (summed over pixels, as every model's, so runs compare),
`quantization_loss`, `commitment_loss`. Export: `gaussian_encoder.pt` returns the quantized code as the mean and
the constant log variance DETERMINISTIC_LOG_VARIANCE, so the 'sampled' representation equals the 'mean' one.
"""
import math

import gin
import torch

from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import losses
from dlib_torch.training import optimizers
from dlib_torch.methods.unsupervised import gaussian_encoder_model
from dlib_torch.methods.unsupervised import latent_quantization
from dlib_torch.utils import validation

# Log variance of a deterministic code: exp(-30) ~ 1e-13 standard deviation, below float32 resolution for any code
# of magnitude >= 1e-5, so sampling returns the code itself, while every formula with the log variance stays finite.
DETERMINISTIC_LOG_VARIANCE = -60.0


class ClippedAdamW(torch.optim.AdamW):
    """AdamW whose param groups may clip each gradient entry to [-clip, clip] first (optax.clip before adamw)."""

    @torch.no_grad()
    def step(self, closure=None):
        assert closure is None, "ClippedAdamW does not take a closure"
        for group in self.param_groups:
            if group.get("clip") is not None:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.clamp_(-group["clip"], group["clip"])
        return super().step()


def parameter_groups(named_parameters):
    """(regularized, unregularized): weights, and biases plus codebook values (the authors' `param_labels`)."""
    regularized, unregularized = [], []
    for name, parameter in named_parameters:
        if not parameter.requires_grad:
            continue
        if name.endswith("bias") or name.startswith("quantizer."):
            unregularized.append(parameter)
        else:
            regularized.append(parameter)
    return regularized, unregularized


@gin.configurable("qlae_optimizer", denylist=["named_parameters"])
def make_qlae_optimizer(named_parameters, learning_rate=0.001, weight_decay=0.1, gradient_clip=1.0):
    """The optimizer of QLAE and QLVAE: clip + AdamW(weight_decay) on weights, Adam on biases and codebooks.

    Defaults are the authors' (`optim.learning_rate`, `lambdas.l2` except MPI3D's 0.001, `optim.clip`).
    """
    learning_rate = validation.check_float("qlae_optimizer.learning_rate", learning_rate, minimum=0,
                                           minimum_inclusive=False)
    weight_decay = validation.check_float("qlae_optimizer.weight_decay", weight_decay, minimum=0)
    gradient_clip = validation.check_float("qlae_optimizer.gradient_clip", gradient_clip, minimum=0,
                                           minimum_inclusive=False)
    regularized, unregularized = parameter_groups(named_parameters)
    groups = [{"params": regularized, "weight_decay": weight_decay, "clip": gradient_clip},
              {"params": unregularized, "weight_decay": 0.0, "clip": None}]
    return optimizers.Optimizer(ClippedAdamW([g for g in groups if g["params"]], lr=learning_rate,
                                             betas=(0.9, 0.999), eps=1e-8))


def check_weights(name, num_values_per_latent, quantization_weight, commitment_weight, optimize_values):
    """The quantization hyperparameters of `name` (qlae or qlvae), checked before any work."""
    return (validation.check_int(name + ".num_values_per_latent", num_values_per_latent, minimum=2),
            validation.check_float(name + ".quantization_weight", quantization_weight, minimum=0),
            validation.check_float(name + ".commitment_weight", commitment_weight, minimum=0),
            validation.check_bool(name + ".optimize_values", optimize_values))


def quantized_objective(reconstruction_loss, num_pixels, z_continuous, z_quantized, quantization_weight,
                        commitment_weight):
    """(objective, quantization_loss, commitment_loss) of a batch, `reconstruction_loss` being summed over pixels."""
    quantization = latent_quantization.quantization_loss(z_continuous, z_quantized)
    commitment = latent_quantization.commitment_loss(z_continuous, z_quantized)
    objective = (reconstruction_loss / num_pixels + quantization_weight * quantization
                 + commitment_weight * commitment)
    return objective, quantization, commitment


class QuantizedLatentModel(gaussian_encoder_model.GaussianEncoderModel):
    """What QLAE and QLVAE share: the configured encoder and decoder with one codebook per latent dimension between
    them, the `qlae_optimizer` and the quantized objective. Subclasses set the hyperparameters of `check_weights` in
    `__init__` and say what is quantized and which log variance the code has."""

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

    def decode(self, latent_tensor):
        return self.decoder(latent_tensor)

    def make_optimizers(self):
        return [make_qlae_optimizer(list(self.named_parameters()))]

    def reconstruct_quantized(self, observations, z_continuous):
        """(objective, reconstruction_loss, quantization_loss, commitment_loss) of decoding the quantized
        `z_continuous` (straight-through), as `quantized_objective`."""
        z_hat, z_quantized = self.quantizer(z_continuous)
        reconstructions = self.decoder(z_hat)
        reconstruction_loss = losses.make_reconstruction_loss(observations, reconstructions).mean()
        objective, quantization, commitment = quantized_objective(
            reconstruction_loss, self.num_pixels, z_continuous, z_quantized, self.quantization_weight,
            self.commitment_weight)
        return objective, reconstruction_loss, quantization, commitment

    def exported_encoder(self):
        """The module exported as `gaussian_encoder.pt`: images -> (quantized mean, log variance)."""
        raise NotImplementedError()

    def exported_modules(self):
        device = next(self.parameters()).device
        return {
            "gaussian_encoder.pt": (self.exported_encoder(),
                                    torch.zeros([1] + self.observation_shape, device=device)),
            "decoder.pt": (self.decoder, torch.zeros([1, self.num_latent], device=device)),
        }


@gin.configurable("qlae")
class QLAE(QuantizedLatentModel):
    """Quantized-latent autoencoder: encode, quantize per dimension (straight-through), decode."""

    def __init__(self, num_values_per_latent=10, quantization_weight=0.01, commitment_weight=0.01,
                 optimize_values=True):
        """Defaults are the authors' (configs/params/quantized_ae/*.yaml): 10 values per latent, weights 0.01."""
        super().__init__()
        (self.num_values_per_latent, self.quantization_weight, self.commitment_weight,
         self.optimize_values) = check_weights("qlae", num_values_per_latent, quantization_weight,
                                               commitment_weight, optimize_values)

    def gaussian_encoder(self, observations):
        """(quantized code, constant log variance): a deterministic code in DESIGN §3's form."""
        z_continuous, _ = self.encoder(observations)
        quantized, _ = self.quantizer.quantize(z_continuous)
        return quantized, torch.full_like(quantized, DETERMINISTIC_LOG_VARIANCE)

    def model_fn(self, observations, global_step, factors=None):
        """Objective and scalars of a batch of images (see the module docstring)."""
        del factors
        self.global_step = global_step
        z_continuous, _ = self.encoder(observations)
        loss, reconstruction_loss, quantization, commitment = self.reconstruct_quantized(observations, z_continuous)
        return [loss], {"loss": loss, "reconstruction_loss": reconstruction_loss, "quantization_loss": quantization,
                        "commitment_loss": commitment}

    def exported_encoder(self):
        return latent_quantization.QuantizedEncoder(self.encoder, self.quantizer, DETERMINISTIC_LOG_VARIANCE)
