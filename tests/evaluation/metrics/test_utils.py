"""Shared metric utilities: the reference's own expectations and parity with its code."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils.errors import ConfigError


def test_histogram_discretizer():
    target = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.6, .5, .4, .3, .2, .1]])
    result = utils._histogram_discretize(target, num_bins=3)
    np.testing.assert_array_equal(result, [[1, 1, 2, 2, 3, 3], [3, 3, 2, 2, 1, 1]])


def test_discrete_entropy():
    target = np.array([[1, 1, 2, 2, 3, 3], [3, 3, 2, 2, 1, 1]])
    np.testing.assert_allclose(utils.discrete_entropy(target), [np.log(3), np.log(3)])


def test_discrete_mutual_info():
    xs = np.array([[1, 2, 1, 2], [1, 1, 2, 2]])
    ys = np.array([[1, 2, 1, 2], [2, 2, 1, 1]])
    np.testing.assert_allclose(utils.discrete_mutual_info(xs, ys), [[np.log(2), 0.], [0., np.log(2)]])


def test_split_train_test():
    xs_train, xs_test = utils.split_train_test(np.zeros([10, 100]), 0.9)
    assert xs_train.shape == (10, 90) and xs_test.shape == (10, 10)
    xs_train, xs_test = utils.split_train_test(np.arange(7)[np.newaxis], 0.5)
    np.testing.assert_array_equal(xs_train, [[0, 1, 2, 3]])


def test_utilities_match_reference(reference):
    random_state = np.random.RandomState(0)
    codes = random_state.normal(size=(4, 500))
    factors = random_state.randint(5, size=(3, 500))
    np.testing.assert_array_equal(utils._histogram_discretize(codes, 20),
                                  reference.utils._histogram_discretize(codes, 20))
    discrete = utils._histogram_discretize(codes, 20)
    np.testing.assert_array_equal(utils.discrete_mutual_info(discrete, factors),
                                  reference.utils.discrete_mutual_info(discrete, factors))
    np.testing.assert_array_equal(utils.discrete_entropy(factors), reference.utils.discrete_entropy(factors))
    for ours, theirs in zip(utils.normalize_data(codes), reference.utils.normalize_data(codes)):
        np.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(utils.split_train_test(codes, 0.66), reference.utils.split_train_test(codes, 0.66)):
        np.testing.assert_array_equal(ours, theirs)


def test_generate_batch_factor_code_matches_reference(reference, toy_data):
    calls = []

    def representation_function(observations):
        calls.append(len(observations))
        return observations[:, :2] * 2.

    ours = utils.generate_batch_factor_code(toy_data, representation_function, 1000, np.random.RandomState(3), 16)
    theirs = reference.utils.generate_batch_factor_code(toy_data, lambda x: x[:, :2] * 2., 1000,
                                                        np.random.RandomState(3), 16)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert calls == [1000]  # one large call instead of 63 calls of 16


def test_encode_batches_respects_the_memory_budget():
    batches = [np.full((3, 4), i, dtype=np.float64) for i in range(5)]  # 96 bytes each
    calls = []

    def representation_function(observations):
        calls.append(len(observations))
        return observations[:, :1]

    codes = list(utils.encode_batches(iter(batches), representation_function, max_bytes=200))
    assert calls == [9, 6]
    assert [code[0, 0] for code in codes] == [0, 1, 2, 3, 4]


def test_obtain_representation_matches_reference(reference):
    observations = np.random.RandomState(0).normal(size=(130, 5))
    np.testing.assert_array_equal(utils.obtain_representation(observations, lambda x: x[:, :3], 16),
                                  reference.utils.obtain_representation(observations, lambda x: x[:, :3], 16))


def test_discretizer_and_predictor_are_configured_by_gin():
    gin.parse_config(["discretizer.discretizer_fn = @histogram_discretizer", "discretizer.num_bins = 3",
                      "predictor.predictor_fn = @gradient_boosting_classifier"])
    np.testing.assert_array_equal(utils.make_discretizer(np.array([[0.1, 0.5, 0.9]])), [[1, 2, 3]])
    assert type(utils.make_predictor_fn()()).__name__ == "GradientBoostingClassifier"


def test_sklearn_defaults():
    assert type(utils.logistic_regression()).__name__ == "OneVsRestClassifier"
    assert type(utils.logistic_regression_cv()).__name__ == "OneVsRestClassifier"
    assert utils.linear_svc(0.01, "balanced").dual is True
    gin.bind_parameter("sklearn_defaults.version", "installed")
    assert type(utils.logistic_regression()).__name__ == "LogisticRegression"
    assert type(utils.logistic_regression_cv()).__name__ == "LogisticRegressionCV"
    gin.bind_parameter("sklearn_defaults.version", "0.19")
    with pytest.raises(ConfigError, match="sklearn_defaults.version"):
        utils.logistic_regression()


def test_legacy_logistic_regression_draws_from_the_random_state_like_liblinear():
    """liblinear's fit took one draw from a RandomState; the 0.20 estimator takes it when built."""
    random_state = np.random.RandomState(0)
    utils.logistic_regression(random_state=random_state)
    expected = np.random.RandomState(0)
    expected.randint(np.iinfo("i").max)
    assert random_state.randint(1000) == expected.randint(1000)


def test_derived_seeds_leave_the_random_state_alone():
    random_state = np.random.RandomState(0)
    seeds = utils.derived_seeds(random_state, 3)
    assert len(set(seeds)) == 3
    assert random_state.randint(1000) == np.random.RandomState(0).randint(1000)
    np.testing.assert_array_equal(seeds, utils.derived_seeds(np.random.RandomState(0), 3))


def test_seeded_sets_nested_random_states():
    model = utils.seeded(utils.logistic_regression_cv(), 5)
    assert model.get_params()["estimator__random_state"] == 5
    assert utils.seeded(utils.gradient_boosting_classifier(), 6).random_state == 6


def test_identity_observations_is_the_references(reference):
    ours, theirs = dummy_data.IdentityObservationsData(), reference.dummy_data.IdentityObservationsData()
    np.testing.assert_array_equal(ours.sample(20, np.random.RandomState(0))[1],
                                  theirs.sample(20, np.random.RandomState(0))[1])
