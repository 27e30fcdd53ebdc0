"""Tests of dlib_torch/methods/unsupervised/qlvae.py: the objective's terms and weights, a tiny run, the export."""
import json

import gin
import pytest
import torch

from dlib_torch.methods.unsupervised import qlvae
from dlib_torch.utils import gin_utils
from dlib_torch.utils.errors import ConfigError

TINY = ["dataset.name = 'dsprites_procedural'", "model.batch_size = 4", "model.training_steps = 3",
        "model.eval_steps = 1", "model.random_seed = 0", "encoder.num_latent = 4",
        "encoder.encoder_fn = @test_encoder", "decoder.decoder_fn = @test_decoder",
        "reconstruction_loss.loss_fn = @bernoulli_loss"]


def test_objective_weights_reconstruction_and_kl_per_pixel():
    from dlib_torch.methods.unsupervised import train  # noqa: F401 (registers the test networks' configurables)
    with gin_utils.configured([], TINY[5:]):
        model = qlvae.QLVAE(beta=3.0, quantization_weight=0.02, commitment_weight=0.05).build([8, 8, 1])
        torch.manual_seed(0)
        _, scalars = model.model_fn(torch.rand(5, 8, 8, 1), 0)
    expected = (scalars["reconstruction_loss"] / 64 + 3.0 * scalars["kl_loss"] / 64
                + 0.02 * scalars["quantization_loss"] + 0.05 * scalars["commitment_loss"])
    assert scalars["loss"].item() == pytest.approx(expected.item(), rel=1e-6)
    assert scalars["elbo"].item() == pytest.approx(-(scalars["reconstruction_loss"] + scalars["kl_loss"]).item())
    gin.clear_config()


def test_tiny_run_exports_the_quantized_mean_and_the_posterior_log_variance(tmp_path):
    from dlib_torch.methods.unsupervised import train
    train.train_with_gin(str(tmp_path / "model"), False, [], TINY + ["model.model = @qlvae()", "qlvae.beta = 1."])
    with open(tmp_path / "model" / "results" / "json" / "train_results.json") as f:
        results = json.load(f)
    assert {"loss", "reconstruction_loss", "kl_loss", "elbo", "quantization_loss", "commitment_loss"} <= set(results)
    encoder = torch.jit.load(str(tmp_path / "model" / "exported" / "gaussian_encoder.pt"))
    with torch.no_grad():
        mean, log_var = encoder(torch.rand(3, 64, 64, 1))
    assert mean.shape == log_var.shape == (3, 4)
    assert len(torch.unique(log_var)) > 1  # the posterior's own log variance, not a constant


def test_beta_is_required_and_checked():
    with pytest.raises(ConfigError, match="qlvae.beta = -1.0 is out of range"):
        qlvae.QLVAE(beta=-1.0)
