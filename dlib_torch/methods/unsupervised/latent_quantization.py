"""Latent quantization (Hsu et al., "Disentanglement via Latent Quantization", NeurIPS 2023,
https://arxiv.org/abs/2305.18378): each latent dimension snaps to the nearest value of its own small scalar codebook.

As in the authors' code (kylehkhsu/latent_quantization, `QuantizedLatent` and `QuantizedAE`): codebook j starts as
linspace(-0.5, 0.5, num_values) and is learned; the decoder sees z + stop_gradient(q - z) (straight-through), and
two losses pull codes and values together:
  quantization_loss = mean((stop_gradient(z) - q)^2)   (moves the values)
  commitment_loss   = mean((z - stop_gradient(q))^2)   (moves the encoder)
the means taken over the batch and the latent dimensions.
"""
from typing import Tuple

import torch
from torch import nn


class ScalarQuantizer(nn.Module):
    """Per-dimension scalar codebooks `values` [num_latent, num_values]: z [B, D] -> (z_hat, quantized)."""

    def __init__(self, num_latent: int, num_values_per_latent: int, optimize_values: bool = True):
        super().__init__()
        values = torch.linspace(-0.5, 0.5, num_values_per_latent).repeat(num_latent, 1)
        self.values = nn.Parameter(values, requires_grad=optimize_values)

    def quantize(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The nearest codebook value of each dimension (the first on ties, as argmin) and its index, [B, D]."""
        distances = (z.unsqueeze(2) - self.values.unsqueeze(0)).abs()
        indices = distances.argmin(dim=2)
        quantized = torch.gather(self.values.unsqueeze(0).expand(z.shape[0], -1, -1), 2, indices.unsqueeze(2))
        return quantized.squeeze(2), indices

    def forward(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(z_hat = z + stop_gradient(quantized - z), quantized): the decoder's input and the codebook values."""
        quantized, _ = self.quantize(z)
        return z + (quantized - z).detach(), quantized


def quantization_loss(z_continuous, z_quantized):
    """mean((stop_gradient(z) - q)^2): pulls the codebook values towards the codes."""
    return torch.mean((z_continuous.detach() - z_quantized).square())


def commitment_loss(z_continuous, z_quantized):
    """mean((z - stop_gradient(q))^2): pulls the codes towards their codebook values."""
    return torch.mean((z_continuous - z_quantized.detach()).square())


class QuantizedEncoder(nn.Module):
    """Export of a quantized model's encoder (DESIGN §3): images -> (quantized code of the mean, log variance).

    With `log_variance` set, the log variance is that constant (a deterministic code, QLAE); else the encoder's own
    (the posterior the quantized VAE samples from, QLVAE)."""

    def __init__(self, encoder: nn.Module, quantizer: ScalarQuantizer, log_variance: float = 0.0,
                 constant_log_variance: bool = True):
        super().__init__()
        self.encoder = encoder
        self.quantizer = quantizer
        self.log_variance = float(log_variance)
        self.constant_log_variance = bool(constant_log_variance)

    def forward(self, images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        means, log_vars = self.encoder(images)
        quantized, _ = self.quantizer.quantize(means)
        if self.constant_log_variance:
            log_vars = torch.full_like(quantized, self.log_variance)
        return quantized, log_vars
