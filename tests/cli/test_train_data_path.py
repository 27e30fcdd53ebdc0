"""dtl_train's data path settings (training_runtime.prefetch_batches, training_runtime.data_on_device) as real
subprocesses: bad values refused with one line and exit 2 before any work; a prefetching run preempted by SIGTERM
exits 75 without hanging and resumes to the parameters of an uninterrupted run, bit for bit."""
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
TEST_GIN = os.path.join(METHODS, "unsupervised", "train_test.gin")
SEMI_GIN = os.path.join(METHODS, "semi_supervised", "train_test.gin")
RESUMABLE = ["dataset.name = 'dsprites_procedural'", "encoder.encoder_fn = @conv_encoder",
             "decoder.decoder_fn = @deconv_decoder", "model.batch_size = 4", "model.training_steps = 60",
             "model.eval_steps = 2", "training_runtime.checkpoint_every_steps = 10"]
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def _command(model_dir, bindings, command="dtl_train", gin_file=TEST_GIN):
    return [os.path.join(BIN, command), "--model_dir={}".format(model_dir), "--gin_config={}".format(gin_file)] + \
        ["--gin_bindings={}".format(b) for b in bindings]


def _run(model_dir, bindings, **kwargs):
    return subprocess.run(_command(model_dir, bindings, **kwargs), capture_output=True, text=True, timeout=300,
                          env=ENV)


def _one_line_error(completed, name):
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr, completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.startswith(name + ": ")]
    assert len(lines) == 1, completed.stderr
    return lines[0]


@pytest.mark.parametrize("binding, message", [
    ("training_runtime.prefetch_batches = -1",
     "training_runtime.prefetch_batches = -1 is not allowed; it must be 'auto' or an integer >= 0 and <= 64"),
    ("training_runtime.prefetch_batches = 65", "training_runtime.prefetch_batches = 65 is not allowed"),
    ("training_runtime.prefetch_batches = 2.5", "training_runtime.prefetch_batches = 2.5 is not allowed"),
    ("training_runtime.prefetch_batches = 'often'",
     "training_runtime.prefetch_batches = 'often' is not allowed; it must be 'auto' or an integer"),
    ("training_runtime.prefetch_batches = True", "training_runtime.prefetch_batches = True is not allowed"),
    ("training_runtime.data_on_device = 'yes'",
     "training_runtime.data_on_device = 'yes' is not allowed; it must be 'auto' or True or False"),
    ("training_runtime.data_on_device = 1", "training_runtime.data_on_device = 1 is not allowed"),
    ("training_runtime.data_on_device = True",
     "training_runtime.data_on_device = True cannot be met: the data set renders or transforms its images as it "
     "samples them (no stored image array); set it to 'auto' or False"),
])
def test_bad_values_are_refused_with_one_line_before_any_work(tmp_path, binding, message):
    model_dir = tmp_path / "model"
    line = _one_line_error(_run(model_dir, [binding]), "dtl_train")
    assert line.startswith("dtl_train: error: ") and message in line, line
    assert not model_dir.exists()


def test_semi_supervised_training_refuses_an_explicit_prefetch_and_trains_with_auto(tmp_path):
    tiny = ["model.num_labelled_samples = 10"]
    line = _one_line_error(_run(tmp_path / "two", tiny + ["training_runtime.prefetch_batches = 2"],
                                command="dtl_train_semi_supervised", gin_file=SEMI_GIN), "dtl_train_semi_supervised")
    assert "training_runtime.prefetch_batches = 2 is not possible for s2_vae: its batches depend on the model's own " \
           "state, so they are drawn as it trains; set it to 0 or 'auto'" in line
    assert not (tmp_path / "two").exists()
    completed = _run(tmp_path / "auto", tiny, command="dtl_train_semi_supervised", gin_file=SEMI_GIN)
    assert completed.returncode == 0, completed.stderr


def _parameters(model_dir):
    return checkpoint.load(checkpoint.checkpoint_path(str(model_dir)), "cpu")


def test_sigterm_with_prefetch_exits_75_and_resumes_to_the_uninterrupted_parameters(tmp_path):
    prefetched = RESUMABLE + ["training_runtime.prefetch_batches = 3"]
    completed = _run(tmp_path / "uninterrupted", RESUMABLE + ["training_runtime.prefetch_batches = 0"])
    assert completed.returncode == 0, completed.stderr
    model_dir = tmp_path / "model"
    process = subprocess.Popen(_command(model_dir, prefetched), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=ENV)
    path = checkpoint.checkpoint_path(str(model_dir))
    deadline = time.monotonic() + 120
    while not os.path.exists(path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "dtl_train ended before it could be interrupted: " + process.stderr.read()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)  # the prefetch thread must not keep the process alive
    assert process.returncode == 75, stderr
    assert "dtl_train: preempted: received SIGTERM" in stderr
    stopped_at = _parameters(model_dir)["global_step"]
    assert 10 <= stopped_at < 60
    completed = _run(model_dir, prefetched)
    assert completed.returncode == 0, completed.stderr
    assert "global step {}".format(stopped_at) in completed.stderr
    resumed, reference = _parameters(model_dir), _parameters(tmp_path / "uninterrupted")
    assert resumed["global_step"] == reference["global_step"] == 60
    for name, value in reference["model"].items():
        assert torch.equal(resumed["model"][name], value), name
    assert resumed["rng"]["numpy_data"] == reference["rng"]["numpy_data"]
