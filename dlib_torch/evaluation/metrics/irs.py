"""Interventional Robustness Score (IRS).

Based on "Robustly Disentangled Causal Mechanisms: Validating Deep Representations for Interventional
Robustness" (https://arxiv.org/abs/1811.00007). How little each code moves when every factor but its "parent"
changes: 1 - (a quantile of the deviation from E[z | factor = v]) / (the code's largest deviation).
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import utils


@gin.configurable("irs", denylist=utils.METRIC_ARGUMENTS)
def compute_irs(ground_truth_data, representation_function, random_state, artifact_dir=None, diff_quantile=0.99,
                num_train=gin.REQUIRED, batch_size=gin.REQUIRED, fix_num_active_dims=False):
    """Computes the IRS on `num_train` sampled points; factors are discretized by gin's `discretizer`.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      diff_quantile: quantile of the deviations taken as their maximum (1.0 for the paper's version).
      num_train: number of points.
      batch_size: batch size of the sampling.
      fix_num_active_dims: the reference reports `num_active_dims` as the sum of the active codes' values
        (its bug, kept by default); True reports the number of non-constant codes.

    Returns:
      Dict with `IRS` and `num_active_dims`.
    """
    del artifact_dir
    mus, ys = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_train,
                                               random_state, batch_size)
    return irs_from_codes(mus.T, ys.T, diff_quantile, discretizer=utils.make_discretizer,
                          fix_num_active_dims=fix_num_active_dims)


def irs_from_codes(codes, factors, diff_quantile=0.99, discretizer=None, fix_num_active_dims=False):
    """The IRS of codes [N, D] and factors [N, K].

    `discretizer` maps the factors [K, N] to discrete values; default: 20-bin histograms (the study's setting).
    """
    discretizer = discretizer or utils.default_discretizer
    ys_discrete = discretizer(np.transpose(factors))
    active_mus = _drop_constant_dims(np.transpose(codes))
    if not active_mus.any():
        irs_score = 0.0
    else:
        irs_score = scalable_disentanglement_score(ys_discrete.T, active_mus.T, diff_quantile)["avg_score"]
    num_active_dims = active_mus.shape[0] if fix_num_active_dims else np.sum(active_mus)
    return utils.as_python({"IRS": irs_score, "num_active_dims": num_active_dims})


def _drop_constant_dims(ys):
    """The rows of the matrix `ys` that are not constant."""
    ys = np.asarray(ys)
    if ys.ndim != 2:
        raise ValueError("Expecting a matrix.")
    return ys[ys.var(axis=1) > 0., :]


def scalable_disentanglement_score(gen_factors, latents, diff_quantile=0.99):
    """IRS scores of factors [N, K] and codes [N, D].

    Assumes no noise in the observations and independent, uniformly distributed factors.

    Returns:
      Dict with `disentanglement_scores` (per code), `avg_score`, `parents` (each code's factor),
      `IRS_matrix` [D, K] and `max_deviations` (per code).
    """
    num_gen, num_lat = gen_factors.shape[1], latents.shape[1]
    max_deviations = np.max(np.abs(latents - latents.mean(axis=0)), axis=0)
    cum_deviations = np.zeros([num_lat, num_gen])
    for i in range(num_gen):
        unique_factors = np.unique(gen_factors[:, i], axis=0)
        for value in unique_factors:
            match = gen_factors[:, i] == value
            e_loc = np.mean(latents[match, :], axis=0)
            diffs = np.abs(latents[match, :] - e_loc)
            cum_deviations[:, i] += np.percentile(diffs, q=diff_quantile * 100, axis=0)
        cum_deviations[:, i] /= unique_factors.shape[0]
    irs_matrix = 1.0 - cum_deviations / max_deviations[:, np.newaxis]
    disentanglement_scores = irs_matrix.max(axis=1)
    if np.sum(max_deviations) > 0.0:
        avg_score = np.average(disentanglement_scores, weights=max_deviations)
    else:
        avg_score = np.mean(disentanglement_scores)
    return {
        "disentanglement_scores": disentanglement_scores,
        "avg_score": avg_score,
        "parents": irs_matrix.argmax(axis=1),
        "IRS_matrix": irs_matrix,
        "max_deviations": max_deviations,
    }
