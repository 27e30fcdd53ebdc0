"""Tests of dlib_torch/methods/weak/weak_pairs.py: the pairs of the weak data set."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dsprites_procedural  # pylint: disable=unused-import
from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.weak import weak_pairs


pytestmark = pytest.mark.usefixtures("clean_gin")


def _data():
    gin.parse_config(["dataset.name = 'dsprites_procedural'"])
    return named_data.get_named_ground_truth_data()


@pytest.mark.parametrize("k", [1, 2, -1])
def test_pairs_differ_at_most_in_the_resampled_factors(k):
    data = _data()
    gin.parse_config(["dynamics.k = {}".format(k)])
    rs = np.random.RandomState(0)
    factors = data.sample_factors(200, rs)
    changed_counts = []
    for row in factors:
        before = row.copy()
        after, label = weak_pairs.simple_dynamics(row[None].copy(), data, rs, return_index=True)
        differing = np.flatnonzero(after[0] != before)
        assert 0 <= label < data.num_factors
        assert set(differing) <= ({label} if k == 1 else set(range(data.num_factors)))
        changed_counts.append(len(differing))
    assert max(changed_counts) <= (data.num_factors - 1 if k == -1 else k)
    assert max(changed_counts) >= 1


def test_pairs_are_stacked_along_the_height_and_deterministic():
    data = _data()
    gin.parse_config(["dynamics.k = 1"])
    observations, labels = weak_pairs.sample_weak_pairs(data, 6, np.random.RandomState(3))
    again, labels_again = weak_pairs.sample_weak_pairs(data, 6, np.random.RandomState(3))
    assert observations.shape == (6, 128, 64, 1) and labels.shape == (6,)
    np.testing.assert_array_equal(observations, again)
    np.testing.assert_array_equal(labels, labels_again)
    # With k = 1 the halves differ only by the labelled factor: re-render both from their factors.
    rs = np.random.RandomState(3)
    factors = data.sample_factors(6, rs)
    assert not np.array_equal(observations[:, :64], observations[:, 64:])
    np.testing.assert_array_equal(observations[:, :64], data.sample_observations_from_factors(factors, rs))


def test_correlated_pairs_share_the_unchanged_factors_and_stay_in_the_correlated_joint():
    from dlib_torch.data.ground_truth import factor_sampling
    data = factor_sampling.apply_factor_sampling(_data(), mode="correlated", pairs=[("posX", "posY")],
                                                 strengths=[0.1])
    gin.parse_config(["dynamics.k = 1"])
    rs = np.random.RandomState(0)
    factors = data.sample_factors(4000, rs)
    second = np.empty_like(factors)
    for n, row in enumerate(factors):
        after, label = weak_pairs.simple_dynamics(row[None].copy(), data, rs, return_index=True)
        assert set(np.flatnonzero(after[0] != row)) <= {label}
        second[n] = after[0]
    # posX and posY of the second observations are as close as the configured joint makes them, which
    # independent resampling of the changed factor would not give.
    expected = data.pair_joint(3, 4)
    expected_distance = np.sum(expected * np.abs(np.arange(32)[:, None] - np.arange(32)[None, :]))
    distance = np.abs(second[:, 3] - second[:, 4]).mean()
    assert abs(distance - expected_distance) < 0.15 * expected_distance
    assert expected_distance < 4.0  # (independent positions are 10.7 apart on average)


def test_correlated_weak_batches_are_deterministic():
    from dlib_torch.data.ground_truth import factor_sampling
    data = factor_sampling.apply_factor_sampling(_data(), mode="correlated", pairs=[(1, 2)], strengths=[0.2])
    gin.parse_config(["dynamics.k = -1"])
    a = weak_pairs.sample_weak_pairs(data, 8, np.random.RandomState(3))
    b = weak_pairs.sample_weak_pairs(data, 8, np.random.RandomState(3))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
