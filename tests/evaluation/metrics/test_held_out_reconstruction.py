"""Tests of dlib_torch/evaluation/metrics/held_out_reconstruction.py on tiny models trained by the real stage."""
import json
import os

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from dlib_torch.data.ground_truth import dsprites_procedural
from dlib_torch.evaluation import evaluate
from dlib_torch.evaluation.metrics import held_out_reconstruction
from dlib_torch.postprocessing import postprocess
from dlib_torch.utils.errors import UserError

# Small sides, so that the test can score every combination itself: 16 held out, 64 kept for training.
SPLIT = ["held_out.split = 'shape == 1 and scale == 0 and orientation == 0 and posX < 4 and posY < 4'",
         "held_out.train_predicate = 'shape == 0 and scale == 0 and orientation == 0 and posX < 8 and posY < 8'"]
METRIC = ["evaluation.evaluation_fn = @held_out_reconstruction", "dataset.name = 'auto'", "evaluation.random_seed = 0"]


def _grid_factors(select):
    """Every dSprites factor combination [N, 5] for which `select(shape, scale, orientation, posX, posY)` holds."""
    factors = np.stack(np.unravel_index(np.arange(3 * 6 * 40 * 32 * 32), (3, 6, 40, 32, 32)), axis=1)
    return factors[select(*factors.T)]


def _reference_scores(model_dir, factors, ground_truth_decoder=False):
    """Mean summed BCE-with-logits, MSE and pixel accuracy of z = mu reconstructions, computed independently."""
    images = torch.from_numpy(dsprites_procedural.ProceduralDSprites().sample_observations_from_factors(
        factors, np.random.RandomState(0)))
    decoder = torch.jit.load(os.path.join(model_dir, "exported", "decoder.pt"))
    with torch.no_grad():
        if ground_truth_decoder:
            latents = torch.from_numpy(factors / np.array([2., 5., 39., 31., 31.])).float()
        else:
            latents, _ = torch.jit.load(os.path.join(model_dir, "exported", "gaussian_encoder.pt"))(images)
        logits = decoder(latents)
    nll = F.binary_cross_entropy_with_logits(logits, images, reduction="none").sum(dim=(1, 2, 3)).mean()
    probabilities = torch.sigmoid(logits)
    return {"nll": float(nll), "mse": float((probabilities - images).square().mean()),
            "pixel_accuracy": float(((probabilities > 0.5) == (images > 0.5)).double().mean())}


def _evaluate(model_dir, tmp_path, bindings=()):
    postprocessed = str(tmp_path / "out" / "postprocessed" / "mean")
    postprocess.postprocess_with_gin(model_dir, postprocessed, False, [],
                                     ["postprocess.postprocess_fn = @mean_representation", "dataset.name = 'auto'",
                                      "postprocess.random_seed = 0"])
    output_dir = str(tmp_path / "out" / "metrics" / "mean" / "held_out_reconstruction")
    evaluate.evaluate_with_gin(postprocessed, output_dir, False, [], METRIC + list(bindings))
    with open(os.path.join(output_dir, "results", "json", "evaluation_results.json")) as f:
        return json.load(f)


def _held_out(shape, scale, orientation, pos_x, pos_y):
    return (shape == 1) & (scale == 0) & (orientation == 0) & (pos_x < 4) & (pos_y < 4)


def _kept(shape, scale, orientation, pos_x, pos_y):
    return (shape == 0) & (scale == 0) & (orientation == 0) & (pos_x < 8) & (pos_y < 8)


@pytest.mark.parametrize("model", ["vae", "gt_decoder"])
def test_scores_are_computed_on_exactly_the_training_and_the_held_out_combinations(tiny_model, tmp_path, model):
    model_dir = tiny_model("model.model = @{}()".format(model), *SPLIT)
    scores = _evaluate(model_dir, tmp_path)
    assert scores["num_train_combinations"] == scores["num_train_images"] == 64
    assert scores["num_test_combinations"] == scores["num_test_images"] == 16
    for side, select in (("train", _kept), ("test", _held_out)):
        expected = _reference_scores(model_dir, _grid_factors(select), ground_truth_decoder=model == "gt_decoder")
        for key, value in expected.items():
            assert scores["{}_{}".format(side, key)] == pytest.approx(value, rel=1e-5)
    assert scores["nll_gap"] == pytest.approx(scores["test_nll"] - scores["train_nll"])
    assert scores["mse_gap"] == pytest.approx(scores["test_mse"] - scores["train_mse"])
    assert scores["pixel_accuracy_gap"] == pytest.approx(scores["train_pixel_accuracy"]
                                                         - scores["test_pixel_accuracy"])


def test_named_splits_are_sampled_with_the_evaluation_seed(tiny_model, tmp_path):
    model_dir = tiny_model("held_out.split = 'shape2tx'")
    bindings = ["held_out_reconstruction.num_samples = 40", "held_out_reconstruction.batch_size = 16"]
    first = _evaluate(model_dir, tmp_path / "first", bindings)
    assert first["num_train_combinations"] == 3 * 6 * 40 * 32 * 32 - 6 * 40 * 16 * 32 == 614400
    assert first["num_test_combinations"] == 6 * 40 * 16 * 32 == 122880
    assert first["num_train_images"] == first["num_test_images"] == 40
    second = _evaluate(model_dir, tmp_path / "second", bindings)
    third = _evaluate(model_dir, tmp_path / "third", bindings + ["evaluation.random_seed = 1"])
    assert second["test_nll"] == first["test_nll"] and second["train_nll"] == first["train_nll"]
    assert third["test_nll"] != first["test_nll"]


def test_a_model_without_a_split_is_scored_on_the_whole_data_set(tiny_model, small_sprites):
    model_dir = tiny_model()
    scores = held_out_reconstruction.compute_held_out_reconstruction(small_sprites, None, np.random.RandomState(0),
                                                                     model_dir=model_dir)
    assert scores["num_train_combinations"] == scores["num_test_combinations"] == scores["num_test_images"] == 12
    assert scores["train_nll"] == scores["test_nll"] and scores["nll_gap"] == 0
    images = small_sprites.sample_observations_from_factors(
        np.stack(np.unravel_index(np.arange(12), (3, 2, 2)), axis=1), None)
    with torch.no_grad():
        mean, _ = torch.jit.load(os.path.join(model_dir, "exported", "gaussian_encoder.pt"))(torch.from_numpy(images))
        logits = torch.jit.load(os.path.join(model_dir, "exported", "decoder.pt"))(mean)
    expected = F.binary_cross_entropy_with_logits(logits, torch.from_numpy(images), reduction="sum") / 12
    assert scores["train_nll"] == pytest.approx(float(expected), rel=1e-5)


def test_reconstruction_scores_on_arrays():
    images = np.zeros([2, 4, 4, 1], dtype=np.float32)
    images[:, :2] = 1.0
    perfect = held_out_reconstruction.reconstruction_scores(np.where(images > 0.5, 30.0, -30.0), images)
    np.testing.assert_allclose(perfect["nll"], 0.0, atol=1e-9 * 16 + 1e-10)
    np.testing.assert_allclose(perfect["mse"], 0.0, atol=1e-12)
    np.testing.assert_array_equal(perfect["pixel_accuracy"], [1.0, 1.0])
    undecided = held_out_reconstruction.reconstruction_scores(np.zeros_like(images), images)
    np.testing.assert_allclose(undecided["nll"], 16 * np.log(2), rtol=1e-6)
    np.testing.assert_allclose(undecided["mse"], 0.25, rtol=1e-6)
    np.testing.assert_array_equal(undecided["pixel_accuracy"], [0.5, 0.5])  # 0.5 is not above the threshold
    tanh = held_out_reconstruction.reconstruction_scores(np.zeros_like(images), images, activation="tanh")
    np.testing.assert_allclose(tanh["nll"], 16 * np.log(2), rtol=1e-6)
    with pytest.raises(UserError, match="activation"):
        held_out_reconstruction.reconstruction_scores(images, images, activation="relu")


def test_it_needs_the_model_directory(small_sprites):
    with pytest.raises(UserError, match="model_dir"):
        held_out_reconstruction.compute_held_out_reconstruction(small_sprites, None, np.random.RandomState(0))
