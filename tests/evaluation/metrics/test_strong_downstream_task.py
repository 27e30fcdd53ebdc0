"""Strong downstream task: the reference's expectations, parity with its code, the global-RNG flag."""
import itertools

import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import strong_downstream_task
from dlib_torch.evaluation.metrics import utils


def test_intervene():
    ground_truth_data = dummy_data.DummyData()
    random_state = np.random.RandomState(0)
    ys_train = ground_truth_data.sample_factors(1000, random_state)
    ys_test = ground_truth_data.sample_factors(1000, random_state)
    for i in range(ys_train.shape[1]):
        y_train_int, y_test_int, interv_factor, factor_interv_train = strong_downstream_task.intervene(
            ys_train.copy(), ys_test.copy(), i, ys_train.shape[1], ground_truth_data)
        assert interv_factor != i
        assert (y_train_int[:, interv_factor] == factor_interv_train).all()
        assert (y_test_int[:, interv_factor] != factor_interv_train).all()


def test_reference_expectation():
    """Noise codes predict at chance level (the reference's test uses 1000 points and 2 experiments)."""
    gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
    gin.bind_parameter("strong_downstream_task.num_train", [100])
    gin.bind_parameter("strong_downstream_task.num_test", 100)
    gin.bind_parameter("strong_downstream_task.n_experiment", 1)
    scores = strong_downstream_task.compute_strong_downstream_task(
        dummy_data.DummyData(), lambda x: np.array(x, dtype=np.float64)[:, :8, 0, 0], np.random.RandomState(0),
        artifact_dir=None)
    assert 0.0 <= scores["100:mean_strong_test_accuracy"] <= 0.3


def _representation(observations):
    return observations[:, :3] + 0.5 * observations[:, 3:]


def test_parity_with_reference(reference, toy_data):
    """Same global seed, same samples, and a predictor that does not touch the global RNG: same numbers."""
    gin.parse_config(["predictor.predictor_fn = @logistic_regression_cv", "sklearn_defaults.version = 'installed'"])
    reference.gin.bind("predictor", predictor_fn=reference.utils.logistic_regression_cv)
    arguments = dict(num_train=[40, 60], num_test=40, n_experiment=2)
    np.random.seed(3)
    ours = strong_downstream_task.compute_strong_downstream_task(toy_data, _representation, np.random.RandomState(0),
                                                                 **arguments)
    np.random.seed(3)
    theirs = reference.strong_downstream_task.compute_strong_downstream_task(
        toy_data, _representation, np.random.RandomState(0), **arguments)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_fixed_random_state_ignores_the_global_one(toy_data):
    gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
    arguments = dict(num_train=[40], num_test=40, n_experiment=1, fix_global_random_state=True)
    results = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        results.append(strong_downstream_task.compute_strong_downstream_task(
            toy_data, _representation, np.random.RandomState(0), **arguments))
    assert results[0] == results[1]


def test_from_codes_on_the_factor_grid():
    factors = np.array(list(itertools.product(range(3), range(4), range(5))))
    identity = strong_downstream_task.strong_downstream_task_from_codes(
        factors.astype(float), factors, utils.gradient_boosting_classifier, num_train=[60], num_test=60,
        n_experiment=2, fix_global_random_state=True)
    assert identity["60:mean_strong_test_accuracy"] >= 0.95
    noise = np.random.RandomState(0).normal(size=(len(factors), 3))
    useless = strong_downstream_task.strong_downstream_task_from_codes(
        noise, factors, utils.gradient_boosting_classifier, num_train=[60], num_test=60, n_experiment=2,
        fix_global_random_state=True)
    assert useless["60:mean_strong_test_accuracy"] <= 0.5
