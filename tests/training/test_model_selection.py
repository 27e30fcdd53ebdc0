"""Tests of best-checkpoint selection (dlib_torch/training/model_selection.py) through train."""
import json
import os

import pytest
import torch

from dlib_torch.methods.unsupervised import train
from dlib_torch.training import checkpoint

BINDINGS = ["dataset.name = 'dsprites_procedural'", "model.model = @gt_decoder()", "gt_decoder.inputs = 'raw'",
            "decoder.decoder_fn = @test_decoder", "reconstruction_loss.loss_fn = @bernoulli_loss",
            "vae_optimizer.optimizer_fn = @AdamOptimizer", "AdamOptimizer.learning_rate = 0.05",
            "model.batch_size = 8", "model.training_steps = 30", "model.eval_steps = 1", "model.random_seed = 0",
            "training_runtime.checkpoint_every_steps = 10"]


def _results(model_dir):
    with open(os.path.join(model_dir, "results", "json", "train_results.json")) as f:
        return json.load(f)


def test_selection_exports_the_best_step_and_changes_no_training_result(tmp_path):
    plain, selected = str(tmp_path / "plain"), str(tmp_path / "selected")
    train.train_with_gin(plain, False, [], BINDINGS)
    train.train_with_gin(selected, False, [], BINDINGS + ["model_selection.every_steps = 5",
                                                          "model_selection.num_batches = 3"])
    results = _results(selected)
    assert results["model_selection_step"] in (5, 10, 15, 20, 25, 30)
    assert results["model_selection_loss"] > 0 and "model_selection_step" not in _results(plain)
    # Training itself is untouched: the last parameters are bitwise those of the run without selection.
    last = checkpoint.load(checkpoint.checkpoint_path(plain), "cpu")["model"]
    last_selected = checkpoint.load(checkpoint.checkpoint_path(selected), "cpu")["model"]
    for name, value in last.items():
        assert torch.equal(last_selected[name], value), name
    best = torch.load(os.path.join(selected, "checkpoints", "best.pt"), weights_only=True)
    assert best["global_step"] == results["model_selection_step"]
    exported = torch.jit.load(os.path.join(selected, "exported", "decoder.pt"))
    for name, value in exported.state_dict().items():
        assert torch.equal(value, best["model"]["decoder." + name]), name


def test_bad_selection_settings_are_refused_before_work(tmp_path):
    from dlib_torch.utils.errors import ConfigError
    with pytest.raises(ConfigError, match="model_selection.every_steps"):
        train.train_with_gin(str(tmp_path / "m"), False, [], BINDINGS + ["model_selection.every_steps = 0"])
    assert not os.path.exists(tmp_path / "m")
