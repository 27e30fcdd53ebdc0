"""Tests of dlib_torch/methods/semi_supervised/semi_supervised_utils.py: labellers and the labelled split."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.semi_supervised import semi_supervised_utils as utils
from dlib_torch.utils.errors import ConfigError


pytestmark = pytest.mark.usefixtures("clean_gin")


def _data():
    gin.parse_config(["dataset.name = 'dsprites_procedural'"])
    return named_data.get_named_ground_truth_data()


def _factors(data, n=400):
    return data.sample_factors(n, np.random.RandomState(0))


def test_perfect_labeller_returns_the_factors():
    data = _data()
    factors = _factors(data)
    labels, sizes = utils.perfect_labeller(factors.copy(), data, np.random.RandomState(1))
    np.testing.assert_array_equal(labels, factors)
    assert labels.dtype == np.float32 and list(sizes) == list(data.factors_num_values)


def test_bin_labeller_bins_large_factors():
    data = _data()
    factors = _factors(data)
    labels, sizes = utils.bin_labeller(factors.copy(), data, np.random.RandomState(1), num_bins=5)
    assert list(sizes) == [min(n, 5) for n in data.factors_num_values]
    for i, n in enumerate(data.factors_num_values):
        expected = np.minimum(factors[:, i] // (n / 5), 4) if n > 5 else factors[:, i]
        np.testing.assert_array_equal(labels[:, i], expected)


def test_noisy_labeller_changes_about_prob_random_of_the_labels():
    data = _data()
    factors = _factors(data, 2000)
    labels, _ = utils.noisy_labeller(factors.copy(), data, np.random.RandomState(1), prob_random=0.5)
    changed = np.mean(labels != factors)
    # Half are redrawn; a redrawn label keeps its value with probability 1/num_values.
    expected = np.mean([0.5 * (1 - 1 / n) for n in data.factors_num_values])
    assert abs(changed - expected) < 0.03
    assert np.all(labels < np.array(data.factors_num_values))


def test_permuted_labeller_is_a_bijection_per_factor():
    data = _data()
    factors = _factors(data)
    labels, _ = utils.permuted_labeller(factors.copy(), data, np.random.RandomState(1))
    for i in range(data.num_factors):
        pairs = set(zip(factors[:, i], labels[:, i]))
        assert len(pairs) == len(set(factors[:, i])) == len(set(labels[:, i]))


def test_partial_labeller_keeps_some_factors():
    data = _data()
    factors = _factors(data)
    labels, sizes = utils.partial_labeller(factors.copy(), data, np.random.RandomState(1), num_observed_factors=2)
    assert labels.shape == (400, 2) and len(sizes) == 2
    kept = [i for i in range(data.num_factors) for j in range(2) if np.array_equal(factors[:, i], labels[:, j])]
    assert len(kept) >= 2
    with pytest.raises(ConfigError, match="num_observed_factors"):
        utils.partial_labeller(factors.copy(), data, np.random.RandomState(1), num_observed_factors=9)


def test_sample_supervised_data_is_seeded_and_split():
    data = _data()
    gin.parse_config(["labeller.labeller_fn = @perfect_labeller"])
    observations, labels, sizes = utils.sample_supervised_data(3, data, 10)
    again, labels_again, _ = utils.sample_supervised_data(3, data, 10)
    np.testing.assert_array_equal(observations, again)
    np.testing.assert_array_equal(labels, labels_again)
    x_train, y_train, x_test, y_test = utils.train_test_split(observations, labels, 10, 0.75)
    assert len(x_train) == len(y_train) == 8 and len(x_test) == len(y_test) == 2  # ceil(7.5)
    np.testing.assert_array_equal(y_test, labels[8:])
