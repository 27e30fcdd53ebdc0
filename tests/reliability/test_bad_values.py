"""Bad values get one line naming the parameter, the value and what is allowed, and exit 2 before any work:
no output directory is created."""
import os

import pytest

from reliability_tools import MEAN_GIN, MIG_GIN, TRAIN_GIN, one_line_error, run

TRAINING_CASES = [
    ("model.batch_size = 'abc'", "model.batch_size = 'abc' is not an integer"),
    ("model.training_steps = 'abc'", "model.training_steps = 'abc' is not an integer"),
    ("model.random_seed = -1", "model.random_seed = -1 is out of range; it must be an integer >= 0"),
    ("model.batch_size = -8", "model.batch_size = -8 is out of range; it must be an integer >= 1"),
    ("encoder.num_latent = -2", "encoder.num_latent = -2 is out of range; it must be an integer >= 1"),
    ("encoder.num_latent = 0", "encoder.num_latent = 0 is out of range"),
    ("model.training_steps = 0", "model.training_steps = 0 is out of range; it must be an integer >= 1"),
    ("model.training_steps = -5", "model.training_steps = -5 is out of range"),
    ("model.training_steps = 2.5", "model.training_steps = 2.5 is not an integer"),
    ("model.eval_steps = 0", "model.eval_steps = 0 is out of range; it must be an integer >= 1"),
    ("vae.beta = -1", "vae.beta = -1 is out of range; it must be a number >= 0"),
    ("vae.beta = 'x'", "vae.beta = 'x' is not a finite number"),
    ("vae/AdamOptimizer.learning_rate = 0", "AdamOptimizer.learning_rate = 0 is out of range; it must be a number > 0"),
    ("training_runtime.checkpoint_every_steps = 0", "training_runtime.checkpoint_every_steps = 0 is out of range"),
    ("training_runtime.log_every_steps = 'often'", "training_runtime.log_every_steps = 'often' is not an integer"),
]


@pytest.mark.parametrize("binding,message", TRAINING_CASES)
def test_training_values(tmp_path, binding, message):
    model_dir = tmp_path / "model"
    completed = run("dtl_train", "--model_dir=" + str(model_dir), "--gin_config=" + TRAIN_GIN,
                    "--gin_bindings=" + binding)
    assert completed.returncode == 2, completed.stderr
    assert message in one_line_error(completed, "dtl_train")
    assert not model_dir.exists()


def test_postprocess_and_evaluation_values(trained_model, tmp_path):
    cases = [
        (run("dtl_postprocess", "--model_dir=" + trained_model["model"], "--output_dir=" + str(tmp_path / "p"),
             "--gin_config=" + MEAN_GIN, "--gin_bindings=postprocess.random_seed = -3"),
         "dtl_postprocess", "postprocess.random_seed = -3 is out of range", tmp_path / "p"),
        (run("dtl_evaluate", "--input_dir=" + trained_model["mean"], "--output_dir=" + str(tmp_path / "e"),
             "--gin_config=" + MIG_GIN, "--gin_bindings=mig.num_train = 0"),
         "dtl_evaluate", "mig.num_train = 0 is out of range; it must be an integer >= 1", tmp_path / "e"),
        (run("dtl_evaluate", "--input_dir=" + trained_model["mean"], "--output_dir=" + str(tmp_path / "e"),
             "--gin_config=" + MIG_GIN, "--gin_bindings=evaluation.random_seed = 'x'"),
         "dtl_evaluate", "evaluation.random_seed = 'x' is not an integer", tmp_path / "e"),
        (run("dtl_evaluate", "--input_dir=" + trained_model["mean"], "--output_dir=" + str(tmp_path / "e"),
             "--gin_config=" + MIG_GIN, "--gin_bindings=discretizer.num_bins = 0"),
         "dtl_evaluate", "num_bins", tmp_path / "e"),
        (run("dtl_visualize", "--model_dir=" + trained_model["model"], "--output_dir=" + str(tmp_path / "v"),
             "--num_frames=0"),
         "dtl_visualize", "num_frames", tmp_path / "v"),
    ]
    for completed, name, message, output in cases:
        assert completed.returncode == 2, (name, completed.stderr)
        assert message in one_line_error(completed, name)
        assert not os.path.exists(output)


SUPERVISED_CASES = [
    ("dtl_train_weakly_supervised", "weak", "group_vae.beta = -1", "group_vae_argmax.beta = -1 is out of range"),
    ("dtl_train_semi_supervised", "semi_supervised", "s2_vae.gamma_sup = -4", "s2_vae.gamma_sup = -4 is out of range"),
    ("dtl_train_semi_supervised", "semi_supervised", "s2_vae.beta = 'x'", "s2_vae.beta = 'x' is not a finite number"),
]


@pytest.mark.parametrize("name,family,binding,message", SUPERVISED_CASES)
def test_weak_and_semi_supervised_model_values(tmp_path, name, family, binding, message):
    gin_file = os.path.join(os.path.dirname(__file__), "..", "methods", family, "train_test.gin")
    model_dir = tmp_path / "model"
    completed = run(name, "--model_dir=" + str(model_dir), "--gin_config=" + gin_file, "--gin_bindings=" + binding)
    assert completed.returncode == 2, completed.stderr
    assert message in one_line_error(completed, name)
    assert not model_dir.exists()
