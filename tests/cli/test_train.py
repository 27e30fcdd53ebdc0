"""Tests of dtl_train (dlib_torch/cli/train.py) as real subprocesses: preemption, kill -9, errors, reruns."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from dlib_torch.training import checkpoint

DTL_TRAIN = os.path.join(os.path.dirname(sys.executable), "dtl_train")
TEST_GIN = os.path.join(os.path.dirname(__file__), "..", "methods", "unsupervised", "train_test.gin")
# Long enough (a few seconds) to be interrupted between its checkpoints, every 10 steps.
RESUMABLE = ["dataset.name = 'dsprites_procedural'", "encoder.encoder_fn = @conv_encoder",
             "decoder.decoder_fn = @deconv_decoder", "model.batch_size = 4", "model.training_steps = 100",
             "model.eval_steps = 2", "training_runtime.checkpoint_every_steps = 10"]
# One thread per process: the tests run beside each other (pytest -n 2) on a small machine, where OpenMP
# threads that wait for each other would slow every step down many times over.
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def _command(model_dir, bindings, *extra):
    return [DTL_TRAIN, "--model_dir={}".format(model_dir), "--gin_config={}".format(TEST_GIN)] + \
        ["--gin_bindings={}".format(b) for b in bindings] + list(extra)


def _run(model_dir, bindings, *extra):
    return subprocess.run(_command(model_dir, bindings, *extra), capture_output=True, text=True, timeout=300,
                          env=ENV)


def _results(model_dir):
    with open(os.path.join(model_dir, "results", "json", "train_results.json")) as f:
        return json.load(f)


def _checkpoint(model_dir):
    return checkpoint.load(checkpoint.checkpoint_path(str(model_dir)), "cpu")


def _start_and_interrupt(model_dir, send):
    """Starts dtl_train, waits for its first checkpoint, then calls send(process); returns the finished process."""
    process = subprocess.Popen(_command(model_dir, RESUMABLE), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=ENV)
    path = checkpoint.checkpoint_path(str(model_dir))
    deadline = time.monotonic() + 120
    while not os.path.exists(path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "dtl_train ended before it could be interrupted: " + process.stderr.read()
    send(process)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """A run of the resumable configuration that nothing interrupts."""
    model_dir = tmp_path_factory.mktemp("uninterrupted") / "model"
    completed = _run(model_dir, RESUMABLE)
    assert completed.returncode == 0, completed.stderr
    return model_dir


def _assert_same_final_model(model_dir, reference_dir):
    resumed, reference = _checkpoint(model_dir), _checkpoint(reference_dir)
    assert resumed["global_step"] == reference["global_step"] == 100
    for name, value in reference["model"].items():
        assert torch.equal(resumed["model"][name], value), name
    for resumed_slots, reference_slots in zip(resumed["optimizers"], reference["optimizers"]):
        for p, state in reference_slots["state"].items():
            assert torch.equal(resumed_slots["state"][p]["m"], state["m"])
            assert torch.equal(resumed_slots["state"][p]["v"], state["v"])
    results, reference_results = _results(model_dir), _results(reference_dir)
    for key in ["loss", "reconstruction_loss", "elbo", "regularizer", "kl_loss", "global_step"]:
        assert results[key] == reference_results[key], key


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGUSR1])
def test_preemption_signal_checkpoints_exits_75_and_resumes_bitwise(tmp_path, uninterrupted, signal_number):
    model_dir = tmp_path / "model"
    returncode, stderr = _start_and_interrupt(model_dir, lambda process: process.send_signal(signal_number))
    assert returncode == 75, stderr
    assert "dtl_train: preempted: received {}".format(signal.Signals(signal_number).name) in stderr
    interrupted_at = _checkpoint(model_dir)["global_step"]
    assert 10 <= interrupted_at < 100
    assert not os.path.exists(model_dir / "results")
    completed = _run(model_dir, RESUMABLE)
    assert completed.returncode == 0, completed.stderr
    assert "Resuming" in completed.stderr and "global step {}".format(interrupted_at) in completed.stderr
    _assert_same_final_model(model_dir, uninterrupted)
    with open(model_dir / "scalars.jsonl") as f:
        steps = [json.loads(line)["global_step"] for line in f]
    assert steps == sorted(set(steps)) and steps[-1] == 100  # the redone stretch is not logged twice


def test_kill_9_resumes_from_the_last_checkpoint_bitwise(tmp_path, uninterrupted):
    model_dir = tmp_path / "model"
    returncode, _ = _start_and_interrupt(model_dir, lambda process: process.kill())
    assert returncode == -signal.SIGKILL
    assert _checkpoint(model_dir)["global_step"] < 100
    completed = _run(model_dir, RESUMABLE)
    assert completed.returncode == 0, completed.stderr
    _assert_same_final_model(model_dir, uninterrupted)


def test_finished_model_rerun_is_a_no_op_unless_overwrite(tmp_path):
    model_dir = tmp_path / "model"
    assert _run(model_dir, []).returncode == 0
    first_uuid = _results(model_dir)["uuid"]
    again = _run(model_dir, [])
    assert again.returncode == 0 and "dtl_train: nothing to do: {} holds a finished model".format(model_dir) in \
        again.stdout
    assert _results(model_dir)["uuid"] == first_uuid
    overwritten = _run(model_dir, [], "--overwrite")
    assert overwritten.returncode == 0, overwritten.stderr
    assert _results(model_dir)["uuid"] != first_uuid


def test_nan_loss_exits_with_one_line_naming_the_step(tmp_path):
    model_dir = tmp_path / "model"
    completed = _run(model_dir, ["model.training_steps = 40", "training_runtime.checkpoint_every_steps = 2",
                                 "vae_optimizer.learning_rate = @piecewise_constant",
                                 "piecewise_constant.boundaries = (5,)", "piecewise_constant.values = (0.001, 1e38)"])
    assert completed.returncode == 2
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line.startswith("dtl_train: error: training diverged: ")
    assert "at global step" in last_line and "last good checkpoint is kept" in last_line
    assert os.path.exists(checkpoint.checkpoint_path(str(model_dir)))


def test_malformed_gin_file_names_the_file_before_any_work(tmp_path):
    bad = tmp_path / "bad.gin"
    bad.write_text("model.batch_size = 2\nvae.beta = (1.\n")
    model_dir = tmp_path / "model"
    completed = subprocess.run([DTL_TRAIN, "--model_dir={}".format(model_dir), "--gin_config={}".format(TEST_GIN),
                                "--gin_config={}".format(bad)], capture_output=True, text=True, timeout=120, env=ENV)
    assert completed.returncode == 2
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line.startswith("dtl_train: error: in gin file {}".format(bad))
    assert not model_dir.exists()


def test_unknown_binding_is_reported_with_gins_message(tmp_path):
    model_dir = tmp_path / "model"
    completed = _run(model_dir, ["vae.gamma = 3"])
    assert completed.returncode == 2
    last_line = completed.stderr.strip().splitlines()[-1]
    assert "in gin binding 'vae.gamma = 3'" in last_line and "doesn't have a parameter named 'gamma'" in last_line
    assert not model_dir.exists()


def test_reference_gin_model_dir_and_file_name_flags(tmp_path):
    model_dir = tmp_path / "model"
    completed = subprocess.run([DTL_TRAIN, "--model_dir={}".format(model_dir),
                                "--gin_model_dir={}".format(os.path.dirname(TEST_GIN)),
                                "--gin_file_name=train_test.gin"], capture_output=True, text=True, timeout=120, env=ENV)
    assert completed.returncode == 0, completed.stderr
    assert _results(model_dir)["global_step"] == 2
