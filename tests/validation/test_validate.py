"""Tests of dlib_torch/validation/validate.py: the validation stage scores the model's labelled set."""
import json
import os

import gin
import numpy as np
import pytest
import torch

from dlib_torch.data.ground_truth import named_data
from dlib_torch.evaluation.metrics import mig
from dlib_torch.methods.semi_supervised import semi_supervised_utils
from dlib_torch.postprocessing import postprocess
from dlib_torch.utils.errors import UserError
from dlib_torch.validation import validate

CONFIGS = os.path.join(os.path.dirname(__file__), "validation_test_configs")


@pytest.fixture(scope="module")
def representation_dir(tiny_model, tmp_path_factory):
    output_dir = str(tmp_path_factory.mktemp("postprocessed") / "mean")
    postprocess.postprocess_with_gin(tiny_model(), output_dir, False, [],
                                     ["postprocess.postprocess_fn = @mean_representation",
                                      "dataset.name = 'auto'", "postprocess.random_seed = 0"])
    return output_dir


def test_mig_validation_scores_the_labelled_set_of_the_supervised_seed(representation_dir, tmp_path):
    output_dir = str(tmp_path / "mig_validation")
    validate.validate_with_gin(representation_dir, output_dir, False, [os.path.join(CONFIGS, "mig.gin")],
                               ["validation.random_seed = 7", "validation.num_labelled_samples = 200"])
    with open(os.path.join(output_dir, "results", "aggregate", "validation.json")) as f:
        record = json.load(f)
    assert {"train_config.model.model", "postprocess_config.postprocess.postprocess_fn",
            "validation_config.validation.validation_fn", "validation_results.elapsed_time"} <= set(record)
    # The same labelled set, encoded independently, gives the same score.
    gin.parse_config(["dataset.name = 'dsprites_procedural'", "labeller.labeller_fn = @perfect_labeller",
                      "discretizer.discretizer_fn = @histogram_discretizer", "discretizer.num_bins = 20"])
    try:
        observations, labels, _ = semi_supervised_utils.sample_supervised_data(
            7, named_data.get_named_ground_truth_data(), 200)
        module = torch.jit.load(os.path.join(representation_dir, "exported", "representation.pt"))
        with torch.no_grad():
            codes = module(torch.as_tensor(observations, dtype=torch.float32)).numpy()
        expected = mig.mig_from_codes(codes, labels, discretizer=mig.utils.make_discretizer)["discrete_mig"]
    finally:
        gin.clear_config()
    assert record["validation_results.discrete_mig"] == pytest.approx(expected, rel=1e-6)


def test_validation_needs_a_finished_representation(tmp_path):
    with pytest.raises(UserError, match="postprocess"):
        validate.validate_with_gin(str(tmp_path / "missing"), str(tmp_path / "out"), False,
                                   [os.path.join(CONFIGS, "dci.gin")], [])
