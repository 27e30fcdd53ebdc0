"""Downstream task with both predictors: parity with the reference's code, keys and parallel fits."""
import gin
import numpy as np
import pytest

from dlib_torch.evaluation.metrics import downstream_task
from dlib_torch.evaluation.metrics import utils

NUM_TRAIN = [30, 100]
NUM_TEST = 100


def _our_seeds(toy_data, representation_function, num_seeds):
    """The seeds our classifiers get: derived from the random state after all the sampling."""
    random_state = np.random.RandomState(0)
    for train_size in NUM_TRAIN:
        for size in (train_size, NUM_TEST):
            utils.generate_batch_factor_code(toy_data, representation_function, size, random_state, 16)
    return utils.derived_seeds(random_state, num_seeds)


def _both(reference, toy_data, representation_function, num_train=NUM_TRAIN, num_test=NUM_TEST):
    ours = downstream_task.compute_downstream_task(toy_data, representation_function, np.random.RandomState(0),
                                                   num_train=num_train, num_test=num_test)
    theirs = reference.downstream_task.compute_downstream_task(
        toy_data, representation_function, np.random.RandomState(0), num_train=num_train, num_test=num_test)
    return ours, theirs


def test_parity_with_boosted_trees(reference, seed_reference_trees, toy_data, representation):
    _, representation_function = representation
    gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
    reference.gin.bind("predictor", predictor_fn=reference.utils.gradient_boosting_classifier)
    seed_reference_trees(_our_seeds(toy_data, representation_function, 3 * len(NUM_TRAIN)))
    ours, theirs = _both(reference, toy_data, representation_function)
    assert ours == pytest.approx(theirs, abs=1e-12)
    assert len(ours) == len(NUM_TRAIN) * (4 + 2 * 3)


# Cross-validated one-vs-rest logistic regressions are slow (50 fits per class): small sets, two representations.
@pytest.mark.parametrize("sklearn_version", ["0.20", "installed"])
@pytest.mark.parametrize("representation_name", ["rotated", "noise"])
def test_parity_with_logistic_regression(reference, legacy_reference, toy_data, representations,
                                         representation_name, sklearn_version, monkeypatch):
    if sklearn_version == "installed":  # undo the legacy_reference fixture's patches
        monkeypatch.undo()
    representation_function = representations[representation_name]
    gin.parse_config(["predictor.predictor_fn = @logistic_regression_cv",
                      "sklearn_defaults.version = '{}'".format(sklearn_version)])
    reference.gin.bind("predictor", predictor_fn=reference.utils.logistic_regression_cv)
    ours, theirs = _both(reference, toy_data, representation_function, num_train=[40], num_test=50)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_identity_beats_noise(toy_data):
    gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
    scores = {name: downstream_task.compute_downstream_task(toy_data, function, np.random.RandomState(0),
                                                            num_train=[200], num_test=200)
              for name, function in [("identity", lambda x: x[:, :3]), ("noise", lambda x: x[:, 3:])]}
    assert scores["identity"]["200:min_test_accuracy"] >= 0.95
    assert scores["noise"]["200:mean_test_accuracy"] <= 0.5


def test_parallel_fits_are_identical_to_serial(toy_data, monkeypatch):
    gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
    arguments = dict(num_train=NUM_TRAIN, num_test=NUM_TEST)
    serial = downstream_task.compute_downstream_task(toy_data, lambda x: x[:, 1:5], np.random.RandomState(0),
                                                     **arguments)
    monkeypatch.setenv("DTL_NUM_JOBS", "2")
    assert downstream_task.compute_downstream_task(toy_data, lambda x: x[:, 1:5], np.random.RandomState(0),
                                                   **arguments) == serial


def test_from_codes_keys_match_the_entry(toy_data):
    random_state = np.random.RandomState(0)
    factors = random_state.randint(3, size=(150, 2))
    codes = factors + random_state.normal(scale=0.2, size=(150, 2))
    scores = downstream_task.downstream_task_from_codes(codes[:100], factors[:100], codes[100:], factors[100:],
                                                        utils.logistic_regression_cv)
    assert sorted(scores) == sorted(["100:mean_train_accuracy", "100:mean_test_accuracy", "100:min_train_accuracy",
                                     "100:min_test_accuracy", "100:train_accuracy_factor_0",
                                     "100:test_accuracy_factor_0", "100:train_accuracy_factor_1",
                                     "100:test_accuracy_factor_1"])
    assert scores["100:min_test_accuracy"] > 0.8
