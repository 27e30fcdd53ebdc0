"""Tests of `training_runtime.compile` (training.compiled_networks): the compiled networks follow eager's loss
curve and a compiled run resumes exactly."""
import json
import os
import signal

import gin
import numpy as np
import pytest
import torch

from dlib_torch.methods.unsupervised import train
from dlib_torch.training import checkpoint
from dlib_torch.training import training_log
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import Preempted

TEST_GIN = os.path.join(os.path.dirname(__file__), "..", "methods", "unsupervised", "train_test.gin")
# A small fully connected β-VAE on real images: compiles in seconds, and its losses move over 50 steps.
SMALL = ["dataset.name = 'dsprites_procedural'", "encoder.encoder_fn = @fc_encoder",
         "decoder.decoder_fn = @fc_decoder", "model.batch_size = 8", "model.eval_steps = 1", "vae.beta = 4.",
         "AdamOptimizer.learning_rate = 0.001", "training_runtime.log_every_steps = 1"]


@pytest.fixture(autouse=True)
def _clear_gin_and_one_thread():
    gin.clear_config()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    gin.clear_config()


def _train(model_dir, bindings):
    train.train_with_gin(str(model_dir), False, [TEST_GIN], SMALL + list(bindings))


def _losses(model_dir):
    with open(os.path.join(model_dir, training_log.SCALARS_FILE)) as f:
        return [json.loads(line)["loss"] for line in f]


def test_first_50_losses_match_eager(tmp_path):
    _train(tmp_path / "eager", ["model.training_steps = 50"])
    _train(tmp_path / "compiled", ["model.training_steps = 50", "training_runtime.compile = True"])
    eager, compiled = np.array(_losses(tmp_path / "eager")), np.array(_losses(tmp_path / "compiled"))
    assert len(eager) == len(compiled) == 50
    # Same arithmetic and the same noise (torch's generator): only the rounding of fused float32 kernels
    # differs, about 1e-7 relative per operation, carried through 50 Adam updates. A wrong loss, a missing
    # term or other noise would differ by percents (the loss moves by ~10 % over these steps).
    np.testing.assert_allclose(compiled, eager, rtol=1e-4)
    assert abs(eager[-1] - eager[0]) > 1e-2 * abs(eager[0])


def test_compiled_run_resumes_exactly(tmp_path, monkeypatch):
    steps = ["model.training_steps = 6", "training_runtime.compile = True"]
    _train(tmp_path / "straight", steps)
    real_report = training_log.TrainingLog.report

    def report_then_signal(self, global_step, scalars):
        real_report(self, global_step, scalars)
        if global_step == 3:
            os.kill(os.getpid(), signal.SIGUSR1)
    monkeypatch.setattr(training_log.TrainingLog, "report", report_then_signal)
    with pytest.raises(Preempted, match="global step 4"):
        _train(tmp_path / "resumed", steps)
    monkeypatch.setattr(training_log.TrainingLog, "report", real_report)
    gin.clear_config()
    _train(tmp_path / "resumed", steps)
    straight = checkpoint.load(checkpoint.checkpoint_path(str(tmp_path / "straight")), "cpu")["model"]
    resumed = checkpoint.load(checkpoint.checkpoint_path(str(tmp_path / "resumed")), "cpu")["model"]
    assert straight.keys() == resumed.keys()
    for name in straight:
        assert torch.equal(straight[name], resumed[name]), name
    assert _losses(tmp_path / "straight") == _losses(tmp_path / "resumed")


def test_compiled_factor_vae_runs_its_two_backward_passes(tmp_path):
    factor_vae = ["model.model = @factor_vae()", "factor_vae.gamma = 10.",
                  "discriminator.discriminator_fn = @fc_discriminator",
                  "discriminator_optimizer.optimizer_fn = @discriminator/AdamOptimizer", "model.training_steps = 4"]
    _train(tmp_path / "eager", factor_vae)
    _train(tmp_path / "compiled", factor_vae + ["training_runtime.compile = True"])
    np.testing.assert_allclose(_losses(tmp_path / "compiled"), _losses(tmp_path / "eager"), rtol=1e-4)


def test_compile_must_be_a_boolean(tmp_path):
    with pytest.raises(ConfigError, match="training_runtime.compile = 'yes' is not a boolean"):
        _train(tmp_path / "model", ["model.training_steps = 2", "training_runtime.compile = 'yes'"])
