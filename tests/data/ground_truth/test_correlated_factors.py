"""Tests of dlib_torch/data/ground_truth/correlated_factors.py: the empirical joint of 100k draws is the configured
one (total variation and a chi-square test), free factors stay uniform and independent, draws are deterministic,
held-out splits compose, and weak pairs stay in the correlated distribution."""
import numpy as np
import pytest
import scipy.stats

from dlib_torch.data.ground_truth import correlated_factors
from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import splits
from dlib_torch.utils.errors import ConfigError

NUM_DRAWS = 100_000


class Grid(ground_truth_data.GroundTruthData):
    """A factor grid without images (dSprites' sizes by default), sampled uniformly as the data sets are."""

    def __init__(self, names=("shape", "scale", "orientation", "posX", "posY"), sizes=(3, 6, 40, 32, 32)):
        self._names, self._sizes = list(names), list(sizes)

    num_factors = property(lambda self: len(self._sizes))
    factors_num_values = property(lambda self: self._sizes)
    factor_names = property(lambda self: self._names)
    observation_shape = property(lambda self: [1])

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(s, size=num) for s in self._sizes], axis=1)

    def sample_observations_from_factors(self, factors, random_state):
        return factors.astype(np.float32)


def empirical_joint(factors, i, j, sizes):
    counts = np.zeros((sizes[i], sizes[j]))
    np.add.at(counts, (factors[:, i], factors[:, j]), 1)
    return counts / len(factors)


def total_variation(p, q):
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())


def chi_square_p_value(observed_fraction, expected, num):
    """p-value of a chi-square goodness-of-fit test, cells with expected count < 5 pooled into one."""
    observed, expected = np.ravel(observed_fraction) * num, np.ravel(expected) * num
    small = expected < 5
    if observed[expected == 0].sum() > 0:
        return 0.0  # a draw where the distribution has no mass
    if expected[small].sum() > 0:
        observed = np.append(observed[~small], observed[small].sum())
        expected = np.append(expected[~small], expected[small].sum())
    else:
        observed, expected = observed[~small], expected[~small]
    return scipy.stats.chisquare(observed, expected).pvalue


def test_pair_weights_are_a_band_around_the_diagonal_or_anti_diagonal():
    weights = correlated_factors.pair_weights(5, 9, 0.2)
    assert weights.shape == (5, 9)
    np.testing.assert_allclose(weights[[0, 4], [0, 8]], 1.0)  # u_i == u_j
    np.testing.assert_allclose(weights[0, 8], np.exp(-1 / (2 * 0.04)))
    anti = correlated_factors.pair_weights(5, 9, 0.2, direction=-1)
    np.testing.assert_allclose(anti, weights[:, ::-1])


@pytest.mark.parametrize("sigma, direction", [(0.2, 1), (0.1, -1), (0.7, 1)])
def test_empirical_joint_of_the_pair_matches_the_configured_joint(sigma, direction):
    grid = Grid()
    data = correlated_factors.CorrelatedFactors(grid, [(3, 1)], [sigma], [direction])  # posX ~ scale
    factors = data.sample_factors(NUM_DRAWS, np.random.RandomState(0))
    expected = correlated_factors.pair_weights(32, 6, sigma, direction)
    expected /= expected.sum()
    np.testing.assert_allclose(data.pair_joint(3, 1), expected, rtol=1e-12)
    observed = empirical_joint(factors, 3, 1, grid.factors_num_values)
    assert total_variation(observed, expected) < 0.03
    assert chi_square_p_value(observed, expected, NUM_DRAWS) > 1e-3
    # The test can fail: independent draws are far from the correlated joint.
    independent = empirical_joint(grid.sample_factors(NUM_DRAWS, np.random.RandomState(0)), 3, 1,
                                  grid.factors_num_values)
    assert chi_square_p_value(independent, expected, NUM_DRAWS) < 1e-12
    if sigma <= 0.2:
        assert total_variation(independent, expected) > 0.3


def test_free_factors_stay_uniform_and_independent_of_the_pair():
    grid = Grid()
    data = correlated_factors.CorrelatedFactors(grid, [(3, 1)], [0.2])
    factors = data.sample_factors(NUM_DRAWS, np.random.RandomState(1))
    for f in (0, 2, 4):
        marginal = np.bincount(factors[:, f], minlength=grid.factors_num_values[f]) / NUM_DRAWS
        uniform = np.full(grid.factors_num_values[f], 1.0 / grid.factors_num_values[f])
        assert chi_square_p_value(marginal, uniform, NUM_DRAWS) > 1e-3
    # shape (free) x scale (paired): the joint is the product of the marginals.
    scale_marginal = data.pair_joint(3, 1).sum(axis=0)
    observed = empirical_joint(factors, 0, 1, grid.factors_num_values)
    assert chi_square_p_value(observed, np.outer(np.full(3, 1 / 3), scale_marginal), NUM_DRAWS) > 1e-3
    # The paired factors' marginals are those of the configured joint.
    for f, axis in ((3, 1), (1, 0)):
        marginal = np.bincount(factors[:, f], minlength=grid.factors_num_values[f]) / NUM_DRAWS
        assert chi_square_p_value(marginal, data.pair_joint(3, 1).sum(axis=axis), NUM_DRAWS) > 1e-3


def test_linked_pairs_sample_the_product_of_their_weights():
    grid = Grid(names=("a", "b", "c", "d"), sizes=(4, 5, 6, 3))
    data = correlated_factors.CorrelatedFactors(grid, [(0, 1), (2, 1)], [0.3, 0.5], [1, -1])
    factors = data.sample_factors(NUM_DRAWS, np.random.RandomState(2))
    expected = (correlated_factors.pair_weights(4, 5, 0.3)[:, :, None]
                * correlated_factors.pair_weights(6, 5, 0.5, -1).T[None, :, :])
    expected /= expected.sum()
    observed = np.zeros((4, 5, 6))
    np.add.at(observed, (factors[:, 0], factors[:, 1], factors[:, 2]), 1.0 / NUM_DRAWS)
    assert chi_square_p_value(observed, expected, NUM_DRAWS) > 1e-3
    np.testing.assert_allclose(data.pair_joint(0, 2), expected.sum(axis=1))
    np.testing.assert_allclose(data.probability(np.array([[1, 2, 3, 0]])), expected[1, 2, 3] / 3)


def test_draws_are_deterministic_and_come_from_the_given_random_state():
    data = correlated_factors.CorrelatedFactors(Grid(), [(3, 1), (0, 4)], [0.2, 0.4])
    first = data.sample_factors(1000, np.random.RandomState(7))
    np.testing.assert_array_equal(first, data.sample_factors(1000, np.random.RandomState(7)))
    assert not np.array_equal(first, data.sample_factors(1000, np.random.RandomState(8)))
    assert first.dtype == np.int64 and first.shape == (1000, 5)


def test_a_held_out_split_keeps_its_combinations_and_the_joint_restricted_to_them():
    grid = Grid(names=("a", "b", "c"), sizes=(5, 6, 2))
    train_side, _ = splits.held_out_split(grid, "a >= 3 and b <= 1")
    data = correlated_factors.CorrelatedFactors(train_side, [(0, 1)], [0.3])
    factors = data.sample_factors(NUM_DRAWS, np.random.RandomState(3))
    assert train_side.contains(factors).all()
    expected = correlated_factors.pair_weights(5, 6, 0.3)
    expected[3:, :2] = 0.0
    expected /= expected.sum()
    observed = empirical_joint(factors, 0, 1, grid.factors_num_values)
    assert chi_square_p_value(observed, expected, NUM_DRAWS) > 1e-3
    assert data.image_table() is None


def test_a_split_that_keeps_no_correlated_mass_is_refused():
    grid = Grid(names=("a", "b"), sizes=(10, 10))
    train_side, _ = splits.held_out_split(grid, "a == b")  # keeps only the off-diagonal
    with pytest.raises(ConfigError, match="put probability"):
        correlated_factors.CorrelatedFactors(train_side, [(0, 1)], [0.01])


def test_resampled_factors_follow_the_joint_given_the_shared_factors():
    grid = Grid(names=("a", "b", "c"), sizes=(8, 8, 3))
    data = correlated_factors.CorrelatedFactors(grid, [(0, 1)], [0.15])
    random_state = np.random.RandomState(4)
    first = data.sample_factors(20_000, random_state)
    second = np.concatenate([data.resample_factors(row[None], [1], random_state) for row in first])
    np.testing.assert_array_equal(second[:, [0, 2]], first[:, [0, 2]])  # the shared factors
    # Drawn from p(b | a), the second observation is again distributed as the correlated joint.
    observed = empirical_joint(second, 0, 1, grid.factors_num_values)
    assert chi_square_p_value(observed, data.pair_joint(0, 1), 20_000) > 1e-3
    both = np.concatenate([data.resample_factors(row[None], [0, 1, 2], random_state) for row in first])
    assert chi_square_p_value(empirical_joint(both, 0, 1, grid.factors_num_values), data.pair_joint(0, 1),
                              20_000) > 1e-3


def test_describe_names_the_pairs():
    data = correlated_factors.CorrelatedFactors(Grid(), [(3, 1)], [0.2], [-1])
    assert data.describe() == "correlated: (posX, scale) sigma=0.2 -"
