"""Unsupervised scores of a representation: Gaussian total correlation, Wasserstein correlation, mutual info.

They use only the codes (no factors): how far the codes' covariance is from diagonal, and the average mutual
information between pairs of discretized codes.
"""
import gin
import numpy as np
import scipy.linalg

from dlib_torch.evaluation.metrics import utils


@gin.configurable("unsupervised_metrics",
                  denylist=utils.METRIC_ARGUMENTS)
def unsupervised_metrics(ground_truth_data, representation_function, random_state, artifact_dir=None,
                         num_train=gin.REQUIRED, batch_size=16):
    """Computes the unsupervised scores on `num_train` sampled codes (discretized by gin's `discretizer`).

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_train: number of points.
      batch_size: batch size of the sampling.

    Returns:
      Dict with `gaussian_total_correlation`, `gaussian_wasserstein_correlation`,
      `gaussian_wasserstein_correlation_norm` and `mutual_info_score`.
    """
    del artifact_dir
    mus_train, _ = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_train,
                                                    random_state, batch_size)
    return unsupervised_metrics_from_codes(mus_train.T, discretizer=utils.make_discretizer)


def unsupervised_metrics_from_codes(codes, discretizer=None):
    """The unsupervised scores of codes [N, D].

    `discretizer` maps codes [D, N] to discrete codes; default: 20-bin histograms (the study's setting).
    """
    mus = np.transpose(codes)
    num_codes = mus.shape[0]
    cov_mus = np.cov(mus)
    scores = {
        "gaussian_total_correlation": gaussian_total_correlation(cov_mus),
        "gaussian_wasserstein_correlation": gaussian_wasserstein_correlation(cov_mus),
    }
    scores["gaussian_wasserstein_correlation_norm"] = (scores["gaussian_wasserstein_correlation"] /
                                                       np.sum(np.diag(cov_mus)))
    mus_discrete = (discretizer or utils.default_discretizer)(mus)
    mutual_info_matrix = utils.discrete_mutual_info(mus_discrete, mus_discrete)
    np.fill_diagonal(mutual_info_matrix, 0)
    scores["mutual_info_score"] = np.sum(mutual_info_matrix) / (num_codes**2 - num_codes)
    return utils.as_python(scores)


def kl_gaussians_numerically_unstable(mean_0, cov_0, mean_1, cov_1, k):
    """KL(N(mean_0, cov_0) || N(mean_1, cov_1)) in k dimensions, computed naively (to test the others)."""
    inv_1 = np.linalg.inv(cov_1)
    return 0.5 * (np.trace(np.matmul(inv_1, cov_0)) + np.dot(mean_1 - mean_0, np.dot(inv_1, mean_1 - mean_0))
                  - k + np.log(np.linalg.det(cov_1) / np.linalg.det(cov_0)))


def gaussian_total_correlation(cov):
    """Total correlation of a Gaussian with covariance `cov`: KL to the product of its marginals."""
    return 0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1])


def gaussian_wasserstein_correlation(cov):
    """2 tr(cov) - 2 tr(sqrtm(cov * diag(cov)[:, None])), with the reference's elementwise product.

    (The Wasserstein-2 distance to the product of the marginals would use the matrix product.)
    """
    sqrtm = scipy.linalg.sqrtm(cov * np.expand_dims(np.diag(cov), axis=1))
    return 2 * np.trace(cov) - 2 * np.trace(sqrtm)
