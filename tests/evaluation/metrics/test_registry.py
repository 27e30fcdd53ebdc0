"""The reference's own metric gin files configure our metrics: same gin names, parameters and result keys."""
import glob
import os

import gin
import numpy as np
import pytest

from dlib_torch.evaluation.metrics import registry

STUDY_CONFIGS = ["unsupervised_study_v1/metric_configs/*.gin", "fairness_study_v1/metric_configs/*.gin",
                 "abstract_reasoning_study_v1/stage1/metric_configs/*.gin", "sample/irs/*.gin"]
TEST_CONFIGS = "tests/evaluation/evaluate_test_configs/*.gin"


def _reference_configs(reference, pattern):
    root = os.path.join(os.path.dirname(reference.utils.__file__), "..", "..", "config")
    paths = sorted(glob.glob(os.path.join(root, pattern)))
    assert paths, pattern
    return paths


def _parse_metric_lines(path):
    """Parses a metric config without the evaluate stage's lines; returns the chosen metric's gin name."""
    evaluation_fn = None
    for line in open(path).read().splitlines():
        line = line.strip()
        if line.startswith("evaluation.evaluation_fn"):
            evaluation_fn = line.split("@")[1].strip().rstrip("()")
        elif line and not line.startswith(("#", "evaluation.", "dataset.")):
            gin.parse_config(line)
    return evaluation_fn


def test_study_configs_bind_our_metrics(reference):
    paths = [path for pattern in STUDY_CONFIGS for path in _reference_configs(reference, pattern)]
    for path in paths:
        gin.clear_config()
        assert _parse_metric_lines(path) in registry.EVALUATION_FUNCTIONS, path
    assert len(paths) == 9 + 10 + 9 + 1


@pytest.mark.parametrize("config_name", ["beta_vae", "dci", "downstream_task_boosted_trees",
                                         "downstream_task_logistic_regression", "factor_vae", "fairness", "irs",
                                         "mig", "modularity_explicitness", "reduced_downstream_task", "sap_score",
                                         "unsupervised"])
def test_reference_test_configs_run(reference, toy_data, config_name):
    """The reference's evaluation test configs (100 points each) run end to end on a small data set."""
    path, = [p for p in _reference_configs(reference, TEST_CONFIGS) if os.path.basename(p) == config_name + ".gin"]
    metric = registry.EVALUATION_FUNCTIONS[_parse_metric_lines(path)]
    scores = metric(toy_data, lambda x: x[:, 1:5], np.random.RandomState(0), artifact_dir=None)
    assert scores and all(isinstance(value, (int, float)) and np.isfinite(value) for value in scores.values())
