"""The Composer through the real commands: dtl_train -> dtl_postprocess -> dtl_evaluate -> dtl_visualize, reruns,
preemption and resume, and one-line errors for bad input."""
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
ENV = dict(os.environ, OMP_NUM_THREADS="1")
TINY = ["dataset.name = 'dsprites_procedural'", "model.model = @composer()", "held_out.split = 'shape2tx'",
        "model.batch_size = 4", "model.training_steps = 20", "model.eval_steps = 2", "model.random_seed = 0",
        "encoder.num_latent = 6", "encoder.encoder_fn = @test_encoder", "decoder.decoder_fn = @test_decoder",
        "reconstruction_loss.loss_fn = @bernoulli_loss", "vae_optimizer.optimizer_fn = @AdamOptimizer"]
# Conv networks and checkpoints every 10 steps: long enough (seconds) to be interrupted between checkpoints.
RESUMABLE = TINY + ["encoder.encoder_fn = @conv_encoder", "decoder.decoder_fn = @deconv_decoder",
                    "composer.mixer = 'mlp'", "model.training_steps = 80",
                    "training_runtime.checkpoint_every_steps = 10"]


def _run(command, *args, bindings=()):
    return subprocess.run([os.path.join(BIN, command)] + list(args) + ["--gin_bindings=" + b for b in bindings],
                          capture_output=True, text=True, timeout=600, env=ENV)


def _last_line(completed):
    return completed.stderr.strip().splitlines()[-1]


def _json(path):
    with open(path) as f:
        return json.load(f)


def _metric_gin(tmp_path, *lines):
    path = tmp_path / "composition.gin"
    path.write_text("\n".join(["evaluation.evaluation_fn = @composition_reconstruction", "dataset.name = 'auto'",
                               "evaluation.random_seed = 0", "composition_reconstruction.num_triplets = 64"]
                              + list(lines)) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("composer") / "model"
    completed = _run("dtl_train", "--model_dir={}".format(model_dir), bindings=TINY)
    assert completed.returncode == 0, completed.stderr
    return model_dir


def test_train_postprocess_evaluate_visualize_and_reruns(trained, tmp_path):
    assert {"composer.pt", "gaussian_encoder.pt", "decoder.pt"} <= set(os.listdir(trained / "exported"))
    train_results = _json(trained / "results" / "json" / "train_results.json")
    assert {"loss", "reconstruction_loss", "elbo", "kl_loss", "regularizer"} <= set(train_results)
    again = _run("dtl_train", "--model_dir={}".format(trained), bindings=TINY)
    assert again.returncode == 0 and "nothing to do" in again.stdout + again.stderr
    assert _json(trained / "results" / "json" / "train_results.json")["uuid"] == train_results["uuid"]

    post = tmp_path / "postprocessed" / "mean"
    completed = _run("dtl_postprocess", "--model_dir={}".format(trained), "--output_dir={}".format(post),
                     bindings=["postprocess.postprocess_fn = @mean_representation", "dataset.name = 'auto'",
                               "postprocess.random_seed = 0"])
    assert completed.returncode == 0, completed.stderr

    metric_dir = tmp_path / "metrics" / "composition"
    evaluate = ["--input_dir={}".format(post), "--output_dir={}".format(metric_dir),
                "--gin_config={}".format(_metric_gin(tmp_path))]
    completed = _run("dtl_evaluate", *evaluate)
    assert completed.returncode == 0, completed.stderr
    scores = _json(metric_dir / "results" / "json" / "evaluation_results.json")
    assert scores["num_train_triplets"] == scores["num_test_triplets"] == 64
    assert scores["held_out_commands_from_training"] == 1.0
    for key in ("nll", "mse", "pixel_accuracy"):
        assert scores["train_" + key] > 0 and scores["test_" + key] > 0
    assert scores["nll_gap"] == pytest.approx(scores["test_nll"] - scores["train_nll"])
    record = _json(metric_dir / "results" / "aggregate" / "evaluation.json")
    assert record["train_config.model.model"] == "@composer()"
    rerun = _run("dtl_evaluate", *evaluate)  # a finished evaluation is kept (dtl_evaluate asks for --overwrite)
    assert rerun.returncode == 2 and "--overwrite" in _last_line(rerun)
    assert _json(metric_dir / "results" / "json" / "evaluation_results.json")["uuid"] == scores["uuid"]

    # The composer's own encoder and decoder are scored like any VAE's.
    held_out_dir = tmp_path / "metrics" / "held_out"
    completed = _run("dtl_evaluate", "--input_dir={}".format(post), "--output_dir={}".format(held_out_dir),
                     bindings=["evaluation.evaluation_fn = @held_out_reconstruction", "dataset.name = 'auto'",
                               "evaluation.random_seed = 0", "held_out_reconstruction.num_samples = 64"])
    assert completed.returncode == 0, completed.stderr

    visualizations = tmp_path / "visualizations"
    completed = _run("dtl_visualize", "--model_dir={}".format(trained), "--output_dir={}".format(visualizations),
                     "--num_animations=1", "--num_frames=3", "--num_points_irs=200")
    assert completed.returncode == 0, completed.stderr
    assert (visualizations / "composition" / "triplets.png").stat().st_size > 0
    visualize_results = _json(visualizations / "results" / "json" / "visualize_results.json")
    assert 0 < visualize_results["composition_train_mse"] < 1 and 0 < visualize_results["composition_test_mse"] < 1


def _checkpoint(model_dir):
    return checkpoint.load(checkpoint.checkpoint_path(str(model_dir)), "cpu")


def test_sigterm_checkpoints_exits_75_and_resumes_bitwise(tmp_path):
    reference_dir = tmp_path / "uninterrupted"
    assert _run("dtl_train", "--model_dir={}".format(reference_dir), bindings=RESUMABLE).returncode == 0
    model_dir = tmp_path / "model"
    command = [os.path.join(BIN, "dtl_train"), "--model_dir={}".format(model_dir)] + \
        ["--gin_bindings=" + b for b in RESUMABLE]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    path = checkpoint.checkpoint_path(str(model_dir))
    deadline = time.monotonic() + 300
    while not os.path.exists(path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "dtl_train ended before it could be interrupted: " + process.stderr.read()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 75, stderr
    assert 10 <= _checkpoint(model_dir)["global_step"] < 80
    resumed = _run("dtl_train", "--model_dir={}".format(model_dir), bindings=RESUMABLE)
    assert resumed.returncode == 0 and "Resuming" in resumed.stderr, resumed.stderr
    final, reference = _checkpoint(model_dir), _checkpoint(reference_dir)
    assert final["global_step"] == reference["global_step"] == 80
    for name, value in reference["model"].items():  # includes the mlp mixer's batch-norm statistics
        assert torch.equal(final["model"][name], value), name
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        assert _json(model_dir / "results" / "json" / "train_results.json")[key] == \
            _json(reference_dir / "results" / "json" / "train_results.json")[key]


def test_unknown_mixer_is_one_line_exit_2(tmp_path):
    completed = _run("dtl_train", "--model_dir={}".format(tmp_path / "model"),
                     bindings=TINY + ["composer.mixer = 'concat'"])
    assert completed.returncode == 2
    line = _last_line(completed)
    assert line.startswith("dtl_train: error:") and "composer.mixer" in line and "'linear'" in line
    assert not (tmp_path / "model" / "checkpoints").exists()


def test_extrapolation_without_training_commands_is_one_line_exit_2(tmp_path):
    model_dir = tmp_path / "model"
    assert _run("dtl_train", "--model_dir={}".format(model_dir),
                bindings=TINY + ["held_out.split = 'blank_side'", "model.training_steps = 2"]).returncode == 0
    post = tmp_path / "mean"
    assert _run("dtl_postprocess", "--model_dir={}".format(model_dir), "--output_dir={}".format(post),
                bindings=["postprocess.postprocess_fn = @mean_representation", "dataset.name = 'auto'",
                          "postprocess.random_seed = 0"]).returncode == 0
    gin_file = _metric_gin(tmp_path, "composition_reconstruction.held_out_commands = 'train'")
    completed = _run("dtl_evaluate", "--input_dir={}".format(post), "--output_dir={}".format(tmp_path / "m"),
                     "--gin_config={}".format(gin_file))
    assert completed.returncode == 2
    line = _last_line(completed)
    assert line.startswith("dtl_evaluate: error:") and "blank_side" in line and "held_out_commands = 'any'" in line
    completed = _run("dtl_evaluate", "--input_dir={}".format(post), "--output_dir={}".format(tmp_path / "any"),
                     "--gin_config={}".format(_metric_gin(tmp_path, "composition_reconstruction.held_out_commands = "
                                                          "'auto'")))
    assert completed.returncode == 0, completed.stderr
    scores = _json(tmp_path / "any" / "results" / "json" / "evaluation_results.json")
    assert scores["held_out_commands_from_training"] == 0.0


def test_composition_metric_on_a_model_that_is_no_composer_is_one_line_exit_2(tiny_model, tmp_path):
    model_dir = tiny_model()
    post = tmp_path / "mean"
    assert _run("dtl_postprocess", "--model_dir={}".format(model_dir), "--output_dir={}".format(post),
                bindings=["postprocess.postprocess_fn = @mean_representation", "dataset.name = 'auto'",
                          "postprocess.random_seed = 0"]).returncode == 0
    completed = _run("dtl_evaluate", "--input_dir={}".format(post), "--output_dir={}".format(tmp_path / "m"),
                     "--gin_config={}".format(_metric_gin(tmp_path)))
    assert completed.returncode == 2
    assert "needs a Composer" in _last_line(completed) and "composer.pt" in _last_line(completed)
