"""Tests of dlib_torch/methods/unsupervised/qlae.py: the QLAE objective, its gradients and the optimizer against Hsu
et al.'s JAX code on fixed inputs (tests/fixtures/latent_quantization/), and a tiny run that trains, records and
exports a deterministic code."""
import json
import os

import numpy as np
import pytest
import torch

from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import latent_quantization
from dlib_torch.methods.unsupervised import qlae
from dlib_torch.utils.errors import ConfigError

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "fixtures",
                       "latent_quantization", "qlae_reference.npz")
TINY = ["dataset.name = 'dsprites_procedural'", "model.batch_size = 4", "model.training_steps = 3",
        "model.eval_steps = 1", "model.random_seed = 0", "encoder.num_latent = 4",
        "encoder.encoder_fn = @test_encoder", "decoder.decoder_fn = @test_decoder",
        "reconstruction_loss.loss_fn = @bernoulli_loss"]


@pytest.fixture(scope="module")
def reference():
    return dict(np.load(FIXTURE))


def test_objective_and_gradients_match_the_authors_code(reference):
    quantizer = latent_quantization.ScalarQuantizer(*reference["values"].shape).double()
    with torch.no_grad():
        quantizer.values.copy_(torch.tensor(reference["values"]))
    z = torch.tensor(reference["z_continuous"], requires_grad=True)
    images = torch.tensor(reference["images"])
    z_hat, z_quantized = quantizer(z)
    logits = z_hat @ torch.tensor(reference["decoder_weight"]) + torch.tensor(reference["decoder_bias"])
    reconstruction_loss = losses.bernoulli_loss(images, logits, "logits").mean()  # summed over pixels
    assert (reconstruction_loss / images.shape[1]).item() == pytest.approx(
        float(reference["binary_cross_entropy"]), rel=1e-9)
    loss, quantization, commitment = qlae.quantized_objective(reconstruction_loss, images.shape[1], z, z_quantized,
                                                              0.01, 0.01)
    assert loss.item() == pytest.approx(float(reference["loss"]), rel=1e-9)
    assert quantization.item() == pytest.approx(float(reference["quantization_loss"]), rel=1e-9)
    assert commitment.item() == pytest.approx(float(reference["commitment_loss"]), rel=1e-9)
    loss.backward()
    np.testing.assert_allclose(z.grad.numpy(), reference["grad_z"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(quantizer.values.grad.numpy(), reference["grad_values"], rtol=1e-6, atol=1e-12)


def test_optimizer_steps_match_the_authors_optax_chain(reference):
    """Clip + AdamW (decoupled weight decay 0.1) on weights, Adam on biases and codebook values, lr 1e-3."""
    parameters = {name: torch.nn.Parameter(torch.tensor(reference["opt_init_" + name]))
                  for name in ("weight", "bias", "values")}
    named = [("decoder.weight", parameters["weight"]), ("decoder.bias", parameters["bias"]),
             ("quantizer.values", parameters["values"])]
    optimizer = qlae.make_qlae_optimizer(named, learning_rate=1e-3, weight_decay=0.1, gradient_clip=1.0)
    for step in range(3):
        for name, parameter in parameters.items():
            parameter.grad = torch.tensor(reference["opt_grad{}_{}".format(step, name)])
        optimizer.step(step)
        for name, parameter in parameters.items():
            np.testing.assert_allclose(parameter.detach().numpy(), reference["opt_params{}_{}".format(step, name)],
                                       rtol=1e-6, atol=1e-12, err_msg="{} after step {}".format(name, step))


def test_weights_are_decayed_and_clipped_but_biases_and_codebooks_are_not():
    regularized, unregularized = qlae.parameter_groups([
        ("encoder.conv1.weight", torch.nn.Parameter(torch.zeros(1))),
        ("encoder.conv1.bias", torch.nn.Parameter(torch.zeros(1))),
        ("quantizer.values", torch.nn.Parameter(torch.zeros(1))),
        ("frozen", torch.nn.Parameter(torch.zeros(1), requires_grad=False))])
    assert len(regularized) == 1 and len(unregularized) == 2


def test_tiny_run_trains_records_and_exports_a_deterministic_code(tmp_path):
    from dlib_torch.methods.unsupervised import train
    train.train_with_gin(str(tmp_path / "model"), False, [], TINY + ["model.model = @qlae()"])
    with open(tmp_path / "model" / "results" / "json" / "train_results.json") as f:
        results = json.load(f)
    assert {"loss", "reconstruction_loss", "quantization_loss", "commitment_loss"} <= set(results)
    with open(tmp_path / "model" / "results" / "json" / "train_config.json") as f:
        config = json.load(f)
    assert config["model.model"] == "@qlae()" and config["qlae_optimizer.weight_decay"] == "0.1"
    encoder = torch.jit.load(str(tmp_path / "model" / "exported" / "gaussian_encoder.pt"))
    with torch.no_grad():
        mean, log_var = encoder(torch.rand(3, 64, 64, 1))
    assert mean.shape == (3, 4) and (log_var == qlae.DETERMINISTIC_LOG_VARIANCE).all()
    # Every coordinate of the code is a value of its codebook, and sampling returns the code itself.
    checkpoint = torch.load(str(tmp_path / "model" / "checkpoints" / "latest.pt"), weights_only=False)
    values = next(v for k, v in _flat(checkpoint) if k.endswith("quantizer.values"))
    assert all(torch.isin(mean[:, j], values[j]).all() for j in range(4))
    assert torch.equal(mean + torch.exp(log_var / 2) * torch.randn_like(mean), mean)


def _flat(tree, prefix=""):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _flat(value, prefix + str(key) + ".")
    else:
        yield prefix.rstrip("."), tree


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_values_per_latent=1), "qlae.num_values_per_latent = 1 is out of range"),
    (dict(quantization_weight=-0.1), "qlae.quantization_weight = -0.1 is out of range"),
    (dict(optimize_values="yes"), "qlae.optimize_values = 'yes' is not a boolean")])
def test_bad_values_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        qlae.QLAE(**kwargs)


def test_bad_optimizer_values_are_refused():
    with pytest.raises(ConfigError, match="qlae_optimizer.weight_decay = -1.0 is out of range"):
        qlae.make_qlae_optimizer([], weight_decay=-1.0)
