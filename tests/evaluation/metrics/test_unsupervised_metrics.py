"""Unsupervised scores: the reference's analytic expectations and parity with its code."""
import gin
import numpy as np
import pytest
import scipy.linalg

from dlib_torch.evaluation.metrics import unsupervised_metrics

CORRELATED = np.array([[1, 0.9], [0.9, 1.0]], dtype=np.float32)


def test_gaussian_total_correlation_zero():
    assert unsupervised_metrics.gaussian_total_correlation(np.diag(np.ones(5))) == pytest.approx(0., abs=0.01)


def test_gaussian_total_correlation_is_the_kl_to_the_marginals():
    means = np.zeros(2, dtype=np.float32)
    expected = unsupervised_metrics.kl_gaussians_numerically_unstable(means, CORRELATED, means,
                                                                      np.diag(np.diag(CORRELATED)), 2)
    assert unsupervised_metrics.gaussian_total_correlation(CORRELATED) == pytest.approx(expected, abs=0.01)
    assert expected == pytest.approx(-0.5 * np.log(1 - 0.81), abs=1e-5)  # the analytic value


def test_gaussian_wasserstein_correlation_zero():
    assert unsupervised_metrics.gaussian_wasserstein_correlation(np.diag(np.ones(5))) == pytest.approx(0., abs=0.01)


def test_gaussian_wasserstein_correlation_same():
    diagonal = np.diag(np.diag(CORRELATED))
    expected = np.trace(CORRELATED + diagonal - 2 * scipy.linalg.sqrtm(np.matmul(CORRELATED, diagonal)))
    assert unsupervised_metrics.gaussian_wasserstein_correlation(CORRELATED) == pytest.approx(expected, abs=0.01)


def test_parity_with_reference(reference, toy_data, representation):
    _, representation_function = representation
    gin.parse_config(["discretizer.discretizer_fn = @histogram_discretizer", "discretizer.num_bins = 20"])
    reference.gin.bind("discretizer", discretizer_fn=reference.utils._histogram_discretize, num_bins=20)
    ours = unsupervised_metrics.unsupervised_metrics(toy_data, representation_function, np.random.RandomState(0),
                                                     num_train=1000)
    theirs = reference.unsupervised_metrics.unsupervised_metrics(toy_data, representation_function,
                                                                 np.random.RandomState(0), num_train=1000)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_from_codes_on_independent_and_dependent_codes():
    random_state = np.random.RandomState(0)
    independent = random_state.normal(size=(5000, 3))
    scores = unsupervised_metrics.unsupervised_metrics_from_codes(independent)
    assert scores["gaussian_total_correlation"] == pytest.approx(0., abs=0.01)
    assert scores["mutual_info_score"] < 0.05
    dependent = independent @ np.array([[1., 0.9, 0.], [0., 0.4, 0.], [0., 0., 1.]])
    assert unsupervised_metrics.unsupervised_metrics_from_codes(dependent)["mutual_info_score"] > 0.3
