"""Tests of dtl_train_weakly_supervised and dtl_train_semi_supervised (dlib_torch/cli/train_*_supervised.py) as
real subprocesses on the reference's test gin files: records, preemption and bitwise resume, no-op reruns,
NaN handling and one-line errors, as dtl_train."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from dlib_torch.training import checkpoint

BIN = os.path.dirname(sys.executable)
METHODS = os.path.join(os.path.dirname(__file__), "..", "methods")
COMMANDS = {
    "weak": (os.path.join(BIN, "dtl_train_weakly_supervised"), os.path.join(METHODS, "weak", "train_test.gin"),
             ["model.eval_steps = 2"]),
    "semi": (os.path.join(BIN, "dtl_train_semi_supervised"),
             os.path.join(METHODS, "semi_supervised", "train_test.gin"), ["model.num_labelled_samples = 10"]),
}
# Long enough (a few seconds) to be interrupted between its checkpoints, every 10 steps.
RESUMABLE = ["dataset.name = 'dsprites_procedural'", "encoder.encoder_fn = @conv_encoder",
             "decoder.decoder_fn = @deconv_decoder", "model.batch_size = 4", "model.training_steps = 100",
             "training_runtime.checkpoint_every_steps = 10"]
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def _command(kind, model_dir, bindings, *extra):
    command, gin_file, tiny = COMMANDS[kind]
    return [command, "--model_dir={}".format(model_dir), "--gin_config={}".format(gin_file)] + \
        ["--gin_bindings={}".format(b) for b in tiny + bindings] + list(extra)


def _run(kind, model_dir, bindings, *extra):
    return subprocess.run(_command(kind, model_dir, bindings, *extra), capture_output=True, text=True, timeout=300,
                          env=ENV)


def _results(model_dir):
    with open(os.path.join(model_dir, "results", "json", "train_results.json")) as f:
        return json.load(f)


def _checkpoint(model_dir):
    return checkpoint.load(checkpoint.checkpoint_path(str(model_dir)), "cpu")


@pytest.mark.parametrize("kind, keys", [
    ("weak", {"loss", "reconstruction_loss", "elbo", "regularizer", "kl_loss"}),
    ("semi", {"loss", "reconstruction_loss", "elbo", "regularizer", "kl_loss", "supervised_loss"})])
def test_reference_gin_file_trains_exports_and_records(tmp_path, kind, keys):
    model_dir = tmp_path / "model"
    completed = _run(kind, model_dir, [])
    assert completed.returncode == 0, completed.stderr
    results = _results(model_dir)
    assert keys | {"global_step", "elapsed_time", "uuid"} == set(results)
    assert results["global_step"] == 2
    for name in ["gaussian_encoder.pt", "decoder.pt"]:
        assert os.path.exists(model_dir / "exported" / name)
    encoder = torch.jit.load(str(model_dir / "exported" / "gaussian_encoder.pt"))
    mean, logvar = encoder(torch.zeros(3, 64, 64, 1))  # single images, not pairs
    assert mean.shape == logvar.shape == (3, 10)
    with open(model_dir / "results" / "json" / "train_config.json") as f:
        config = json.load(f)
    if kind == "weak":
        assert config["model.model"] == "@group_vae_argmax()" and config["dynamics.k"] == "-1"
        assert config["group_vae.beta"] == "1.0"
    else:
        assert config["model.model"] == "@s2_vae" and config["model.num_labelled_samples"] == "10"
        assert config["labeller.labeller_fn"] == "@perfect_labeller" and config["supervised_loss.loss_fn"] == "@xent"
    again = _run(kind, model_dir, [])
    assert again.returncode == 0 and "nothing to do" in again.stdout + again.stderr
    assert _results(model_dir)["uuid"] == results["uuid"]


@pytest.mark.parametrize("kind", ["weak", "semi"])
def test_preemption_exits_75_and_resumes_bitwise(tmp_path, kind):
    reference_dir = tmp_path / "uninterrupted"
    completed = _run(kind, reference_dir, RESUMABLE)
    assert completed.returncode == 0, completed.stderr
    model_dir = tmp_path / "model"
    process = subprocess.Popen(_command(kind, model_dir, RESUMABLE), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=ENV)
    path = checkpoint.checkpoint_path(str(model_dir))
    deadline = time.monotonic() + 120
    while not os.path.exists(path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "training ended before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 75, stderr
    assert ": preempted: received SIGTERM" in stderr
    assert 10 <= _checkpoint(model_dir)["global_step"] < 100
    resumed = _run(kind, model_dir, RESUMABLE)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming" in resumed.stderr
    final, reference = _checkpoint(model_dir), _checkpoint(reference_dir)
    assert final["global_step"] == reference["global_step"] == 100
    for name, value in reference["model"].items():
        assert torch.equal(final["model"][name], value), name
    assert _results(model_dir)["loss"] == _results(reference_dir)["loss"]


@pytest.mark.parametrize("kind", ["weak", "semi"])
def test_nan_loss_exits_2_with_one_line(tmp_path, kind):
    completed = _run(kind, tmp_path / "model", [
        "model.training_steps = 40", "training_runtime.checkpoint_every_steps = 2",
        "vae_optimizer.learning_rate = @piecewise_constant", "piecewise_constant.boundaries = (5,)",
        "piecewise_constant.values = (0.001, 1e38)"])
    assert completed.returncode == 2
    last_line = completed.stderr.strip().splitlines()[-1]
    assert ": error: training diverged: " in last_line and "at global step" in last_line


@pytest.mark.parametrize("kind, binding, message", [
    ("weak", "group_vae.bogus = 1", "bogus"),
    ("weak", "dynamics.k = 0", "dynamics.k = 0 is out of range"),
    ("semi", "model.train_percentage = 1.5", "model.train_percentage = 1.5"),
    ("semi", "model.model = @vae()", "must be a semi-supervised model"),
    ("semi", "labeller.labeller_fn = @partial_labeller", "partial_labeller"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, kind, binding, message):
    bindings = [binding] + (["partial_labeller.num_observed_factors = 20", "vae.beta = 1."]
                            if "partial" in binding or "vae()" in binding else [])
    completed = _run(kind, tmp_path / "model", bindings)
    assert completed.returncode == 2, completed.stderr
    last_line = completed.stderr.strip().splitlines()[-1]
    assert ": error: " in last_line and message in last_line
