"""Tests of dlib_torch/methods/unsupervised/latent_quantization.py: quantization, straight-through gradients and
the two losses against Hsu et al.'s JAX code on fixed inputs (tests/fixtures/latent_quantization/)."""
import os
import warnings

import numpy as np
import pytest
import torch

from dlib_torch.methods.unsupervised import latent_quantization

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "fixtures",
                       "latent_quantization", "qlae_reference.npz")


@pytest.fixture(scope="module")
def reference():
    return dict(np.load(FIXTURE))


def quantizer_with(values):
    quantizer = latent_quantization.ScalarQuantizer(values.shape[0], values.shape[1]).double()
    with torch.no_grad():
        quantizer.values.copy_(torch.tensor(values))
    return quantizer


def test_codebooks_start_evenly_spaced_in_half_unit_interval():
    quantizer = latent_quantization.ScalarQuantizer(3, 10)
    np.testing.assert_allclose(quantizer.values.detach().numpy(), np.tile(np.linspace(-0.5, 0.5, 10), (3, 1)),
                               atol=1e-7)
    assert not latent_quantization.ScalarQuantizer(3, 10, optimize_values=False).values.requires_grad


def test_quantized_codes_and_indices_match_the_authors_code(reference):
    quantizer = quantizer_with(reference["values"])
    z = torch.tensor(reference["z_continuous"])
    quantized, indices = quantizer.quantize(z)
    np.testing.assert_array_equal(indices.numpy(), reference["z_indices"])
    np.testing.assert_array_equal(quantized.detach().numpy(), reference["z_quantized"])
    z_hat, _ = quantizer(z)
    np.testing.assert_allclose(z_hat.detach().numpy(), reference["z_hat"], rtol=0, atol=1e-15)


def test_losses_match_and_send_their_gradients_where_the_authors_do(reference):
    quantizer = quantizer_with(reference["values"])
    z = torch.tensor(reference["z_continuous"], requires_grad=True)
    _, quantized = quantizer(z)
    quantization = latent_quantization.quantization_loss(z, quantized)
    commitment = latent_quantization.commitment_loss(z, quantized)
    assert quantization.item() == pytest.approx(float(reference["quantization_loss"]), rel=1e-12)
    assert commitment.item() == pytest.approx(float(reference["commitment_loss"]), rel=1e-12)
    quantization.backward()
    assert z.grad is None or not z.grad.any()  # the quantization loss moves only the values
    assert quantizer.values.grad.abs().sum() > 0
    quantizer.values.grad = None
    latent_quantization.commitment_loss(z, quantizer(z)[1]).backward()
    assert quantizer.values.grad is None or not quantizer.values.grad.any()  # the commitment loss, only the codes
    assert z.grad.abs().sum() > 0


def test_the_export_module_scripts_and_returns_the_quantized_mean():
    class Encoder(torch.nn.Module):
        def forward(self, images):
            flat = images.reshape(images.shape[0], -1)[:, :3]
            return flat, flat * 0 + 0.5

    module = latent_quantization.QuantizedEncoder(Encoder(), latent_quantization.ScalarQuantizer(3, 5), -60.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(module)
        posterior = torch.jit.script(latent_quantization.QuantizedEncoder(
            Encoder(), latent_quantization.ScalarQuantizer(3, 5), constant_log_variance=False))
    images = torch.tensor([[0.1, 0.3, -0.4, 7.0]]).reshape(1, 2, 2, 1)
    with torch.no_grad():
        mean, log_var = scripted(images)
        posterior_log_var = posterior(images)[1]
    np.testing.assert_allclose(mean.numpy(), [[0.0, 0.25, -0.5]])
    np.testing.assert_array_equal(log_var.numpy(), np.full((1, 3), -60.0, np.float32))
    np.testing.assert_array_equal(posterior_log_var.numpy(), np.full((1, 3), 0.5, np.float32))
