"""Reduced downstream task: parity with the reference's code, gin wiring and the array-level entry."""
import gin
import numpy as np
import pytest

from dlib_torch.evaluation.metrics import reduced_downstream_task
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils.errors import ConfigError

NUM_FACTORS = 3


def _representation(observations):
    return np.hstack([observations[:, :3] + 0.3 * observations[:, 3:], observations[:, 3:4]])


@pytest.mark.parametrize("num_factors_to_remove", [1, 2])
def test_parity_with_reference(reference, seed_reference_trees, toy_data, num_factors_to_remove):
    gin.parse_config(["predictor.predictor_fn = @gradient_boosting_classifier",
                      "reduced_representation.correlation_measure = @factorwise_dci"])
    reference.gin.bind("predictor", predictor_fn=reference.utils.gradient_boosting_classifier)
    reference.gin.bind("reduced_representation", correlation_measure=reference.reduced_downstream_task
                       .compute_factorwise_dci)
    arguments = dict(num_factors_to_remove=num_factors_to_remove, num_train=[50], num_test=40)
    ours = reduced_downstream_task.compute_reduced_downstream_task(toy_data, _representation,
                                                                   np.random.RandomState(0), **arguments)
    # The reference grows, per factor of interest, the importance trees of each removal (ours are seeded 0),
    # then one classifier per factor (ours get seeds derived after the sampling).
    random_state = np.random.RandomState(0)
    for size in (50, 40):
        utils.generate_batch_factor_code(toy_data, _representation, size, random_state, 16)
    predictor_seeds = utils.derived_seeds(random_state, NUM_FACTORS * NUM_FACTORS).reshape(NUM_FACTORS, -1)
    seed_reference_trees([seed for factor in range(NUM_FACTORS)
                          for seed in [0] * NUM_FACTORS * num_factors_to_remove + list(predictor_seeds[factor])])
    theirs = reference.reduced_downstream_task.compute_reduced_downstream_task(
        toy_data, _representation, np.random.RandomState(0), **arguments)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_removing_the_only_informative_code_hurts_only_its_factor():
    random_state = np.random.RandomState(0)
    factors = random_state.randint(3, size=(300, 2))
    codes = factors + random_state.normal(scale=0.1, size=(300, 2))
    scores = reduced_downstream_task.reduced_downstream_task_from_codes(
        codes[:200], factors[:200], codes[200:], factors[200:], 1, utils.gradient_boosting_classifier)
    assert scores["200:mean_test_accuracy_reduced_factor"] < 0.6
    assert scores["200:mean_test_accuracy_other_factors"] > 0.9
    assert scores["200:reduced_factor_0:mean_test_accuracy_factor_1"] > 0.9


def test_correlation_measure_must_be_configured(toy_data):
    gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
    with pytest.raises(ConfigError, match="reduced_representation.correlation_measure"):
        reduced_downstream_task.compute_reduced_downstream_task(toy_data, _representation, np.random.RandomState(0),
                                                                num_factors_to_remove=1, num_train=[20], num_test=20)


def test_compute_reduced_representation_removes_the_most_important_code():
    mus = np.arange(12.).reshape(3, 4)

    def importance(mus_train, ys_train, mus_test, ys_test):
        return np.array([[0., 1.], [5., 0.], [1., 2.]])
    train, test = reduced_downstream_task.compute_reduced_representation(mus, None, mus + 1, None, 0,
                                                                         correlation_measure=importance)
    np.testing.assert_array_equal(train, mus[[0, 2]])
    np.testing.assert_array_equal(test, mus[[0, 2]] + 1)
