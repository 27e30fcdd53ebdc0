"""Tests of udr_sklearn (dlib_torch/evaluation/udr/metrics/udr.py): the reference's own test cases, and the
vectorised Spearman matrix against scipy's pairwise `spearmanr`, which the reference called per pair."""
import numpy as np
import pytest
import scipy.stats

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.udr.metrics import udr

BATCH_SIZE = 10
NUM_DATA_POINTS = 1000


def _identity_and_permuted(num_factors):
    permutation = np.random.RandomState(1).permutation(num_factors)
    flipped = np.random.RandomState(2).choice(num_factors, num_factors // 2)

    def identity(observations):
        return np.reshape(observations, (len(observations), -1))[:, :num_factors], np.ones(num_factors)

    def permuted(observations):
        codes = np.reshape(observations, (len(observations), -1))[:, :num_factors][:, permutation].copy()
        codes[:, flipped] *= -1.
        return codes, np.ones(num_factors)

    return identity, permuted


@pytest.mark.parametrize("correlation_matrix", ["lasso", "spearman"])
def test_permuted_and_sign_flipped_copies_agree(correlation_matrix):
    data = dummy_data.DummyData()
    scores = udr.compute_udr_sklearn(data, list(_identity_and_permuted(data.num_factors)), np.random.RandomState(0),
                                     BATCH_SIZE, NUM_DATA_POINTS, correlation_matrix=correlation_matrix)
    assert all(0.8 <= s <= 1. for s in scores["model_scores"])
    assert np.shape(scores["raw_correlations"]) == (2, 2, data.num_factors, data.num_factors)
    assert np.shape(scores["pairwise_disentanglement_scores"]) == (2, 2, 1)


def test_the_kl_filter_drops_uninformative_latents():
    data = dummy_data.DummyData()
    noise = np.random.RandomState(3)

    def one_real_latent(observations):
        codes = np.concatenate([np.reshape(observations, (len(observations), -1))[:, :1],
                                noise.random_sample((len(observations), data.num_factors - 1))], axis=1)
        kl = np.zeros(data.num_factors)
        kl[0] = 1.
        return codes, kl

    unfiltered = udr.compute_udr_sklearn(data, [one_real_latent] * 2, np.random.RandomState(0), BATCH_SIZE,
                                         NUM_DATA_POINTS, filter_low_kl=False)
    filtered = udr.compute_udr_sklearn(data, [one_real_latent] * 2, np.random.RandomState(0), BATCH_SIZE,
                                       NUM_DATA_POINTS, filter_low_kl=True, include_raw_correlations=False)
    assert all(0. <= s <= 0.2 for s in unfiltered["model_scores"])
    assert all(0.8 <= s <= 1. for s in filtered["model_scores"])
    assert "raw_correlations" not in filtered


def test_relative_strength_of_the_references_matrices():
    assert udr.relative_strength_disentanglement(np.eye(3)) == 1.
    assert 0.6 <= udr.relative_strength_disentanglement([[1., 1., 0.], [1., 1., 0.], [0., 0., 1.]]) <= 0.7
    assert 0.3 <= udr.relative_strength_disentanglement(np.ones((3, 3))) <= 0.4
    assert udr.relative_strength_disentanglement(np.zeros((3, 3))) == 0.
    assert udr.relative_strength_disentanglement(np.zeros((0, 3))) == 0.  # no informative latent left
    # From the definition: max^2/sum is 1 for each column and (1/2, 1) for the rows of this matrix.
    matrix = np.array([[1., 1., 0.], [0., 0., 1.]])
    assert udr.relative_strength_disentanglement(matrix) == pytest.approx(0.5 * (1. + 0.75))


def test_spearman_matrix_equals_scipys_pairwise_spearmanr():
    rs = np.random.RandomState(0)
    vec1 = rs.normal(size=(300, 4))
    vec2 = np.column_stack([vec1[:, 0] ** 3, rs.normal(size=300), -vec1[:, 2], np.round(vec1[:, 3])])
    vec1[:, 1] = 0.  # a zeroed (uninformative) latent: NaN, as spearmanr gives
    expected = np.array([[scipy.stats.spearmanr(vec1[:, i], vec2[:, j], nan_policy="omit")[0] for j in range(4)]
                         for i in range(4)])
    np.testing.assert_allclose(udr.spearman_correlation_conv(vec1, vec2), np.abs(expected), atol=1e-12)


def test_lasso_matrix_recovers_copies():
    rs = np.random.RandomState(0)
    vec1 = rs.random_sample((1000, 3)) * 10.
    vec2 = vec1.copy()
    vec2[:, 1] = vec2[:, 0]
    np.testing.assert_allclose(udr.lasso_correlation_matrix(vec1, vec2),
                               [[1., 1., 0.], [0., 0., 0.], [0., 0., 1.]], atol=0.2)


def test_model_scores_are_medians_of_the_pairwise_scores_and_deterministic():
    data = dummy_data.DummyData()
    rs = np.random.RandomState(5)
    mixing = [np.eye(10), rs.normal(size=(10, 10)), rs.normal(size=(10, 10))]
    functions = [lambda x, m=m: (np.reshape(x, (len(x), -1))[:, :10] @ m, np.ones(10)) for m in mixing]
    scores = udr.compute_udr_sklearn(data, functions, np.random.RandomState(0), 50, 500)
    again = udr.compute_udr_sklearn(data, functions, np.random.RandomState(0), 50, 500)
    assert scores == again
    pairwise = np.asarray(scores["pairwise_disentanglement_scores"])[..., 0]
    for i in range(3):
        assert scores["model_scores"][i] == pytest.approx(np.median(np.delete(pairwise[:, i], i)))
    with pytest.raises(ValueError, match="multiple of batch_size"):
        udr.compute_udr_sklearn(data, functions, np.random.RandomState(0), 30, 500)
