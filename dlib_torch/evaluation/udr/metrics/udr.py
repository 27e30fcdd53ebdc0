"""Unsupervised Disentanglement Ranking (UDR), from Duan et al.

Based on "Unsupervised Model Selection for Variational Disentangled Representation Learning" (ICLR 2020,
https://arxiv.org/abs/1905.12614). Models trained with different seeds agree on a disentangled representation
and disagree on entangled ones: for every ordered pair of models, a correlation matrix between their informative
latents (|Lasso coefficients| or |Spearman correlation|) is scored by how one-to-one it is; a model's score is the
median of its pairwise scores against the others.
"""
import gin
import numpy as np
import scipy.stats
from sklearn import linear_model
from sklearn import preprocessing

# The reference zeroes latents whose KL is at most this, whatever `kl_filter_threshold` says (kept for parity).
REFERENCE_ZEROING_THRESHOLD = 0.01


@gin.configurable("udr_sklearn", denylist=["ground_truth_data", "representation_functions", "random_state"])
def compute_udr_sklearn(ground_truth_data, representation_functions, random_state, batch_size=gin.REQUIRED,
                        num_data_points=gin.REQUIRED, correlation_matrix="lasso", filter_low_kl=True,
                        include_raw_correlations=True, kl_filter_threshold=0.01):
    """Computes the UDR score of several models on the same sampled observations.

    Args:
      ground_truth_data: GroundTruthData to be sampled from.
      representation_functions: one per model; each maps observations [B, ...] to (means [B, D], the per-latent
        KL divergence from the prior averaged over the batch [D]).
      random_state: numpy RandomState used for sampling.
      batch_size: observations per batch (the KL is averaged per batch, then over batches, as the reference).
      num_data_points: observations in all; a multiple of `batch_size`.
      correlation_matrix: "lasso" or "spearman".
      filter_low_kl: score only latents whose average KL exceeds `kl_filter_threshold`.
      include_raw_correlations: also return the [M, M, D, D] correlation matrices.
      kl_filter_threshold: see `filter_low_kl`.

    Returns:
      Dict with `model_scores` [M], `pairwise_disentanglement_scores` [M, M, 1] and, if asked,
      `raw_correlations` [M, M, D, D] (nested lists).
    """
    means, kls = generate_representation_dataset(ground_truth_data, representation_functions, batch_size,
                                                 num_data_points, random_state)
    return udr_from_codes(means, kls, correlation_matrix=correlation_matrix, filter_low_kl=filter_low_kl,
                          include_raw_correlations=include_raw_correlations,
                          kl_filter_threshold=kl_filter_threshold)


def generate_representation_dataset(ground_truth_data, representation_functions, batch_size, num_data_points,
                                    random_state):
    """Each model's means [num_data_points, D] and average KL [D] on the same observations.

    Observations are drawn `batch_size` at a time from `random_state`, as the reference.
    """
    if num_data_points % batch_size != 0:
        raise ValueError("num_data_points must be a multiple of batch_size")
    means = [[] for _ in representation_functions]
    kls = [[] for _ in representation_functions]
    for _ in range(num_data_points // batch_size):
        observations = ground_truth_data.sample_observations(batch_size, random_state)
        for model, function in enumerate(representation_functions):
            mean, kl = function(observations)
            means[model].append(np.asarray(mean, dtype=np.float64))
            kls[model].append(np.asarray(kl, dtype=np.float64))
    return ([np.concatenate(model_means) for model_means in means],
            [np.mean(np.stack(model_kls), axis=0) for model_kls in kls])


def udr_from_codes(means, kls, correlation_matrix="lasso", filter_low_kl=True, include_raw_correlations=True,
                   kl_filter_threshold=0.01):
    """UDR of M models from their means (list of [N, D], same observations) and average KLs (list of [D])."""
    if correlation_matrix not in ("lasso", "spearman"):
        raise ValueError("correlation_matrix must be 'lasso' or 'spearman', not {!r}".format(correlation_matrix))
    num_models = len(means)
    latent_dim = means[0].shape[1]
    scaled = [preprocessing.StandardScaler().fit_transform(mean) * np.greater(kl, REFERENCE_ZEROING_THRESHOLD)
              for mean, kl in zip(means, kls)]
    active = [np.asarray(kl) > kl_filter_threshold for kl in kls]
    raw_correlations = np.zeros((num_models, num_models, latent_dim, latent_dim))
    pairwise = np.zeros((num_models, num_models, 1))
    for i in range(num_models):
        for j in range(num_models):
            if i == j:
                continue
            if correlation_matrix == "lasso":
                matrix = lasso_correlation_matrix(scaled[i], scaled[j])
            else:
                matrix = spearman_correlation_conv(scaled[i], scaled[j])
            raw_correlations[i, j] = matrix
            if filter_low_kl:
                matrix = matrix[active[i]][:, active[j]]
            pairwise[i, j] = relative_strength_disentanglement(matrix)
    scores = {}
    if include_raw_correlations:
        scores["raw_correlations"] = raw_correlations.tolist()
    scores["pairwise_disentanglement_scores"] = pairwise.tolist()
    scores["model_scores"] = [float(np.median(np.delete(pairwise[:, i], i))) for i in range(num_models)]
    return scores


def relative_strength_disentanglement(corr_matrix):
    """How one-to-one a correlation matrix is: mean over columns and over rows of max² / sum, averaged.

    A matrix with no rows or columns (no informative latent) scores 0 (the reference raised an error).
    """
    corr_matrix = np.asarray(corr_matrix, dtype=np.float64)
    if corr_matrix.size == 0:
        return 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        score_x = np.nanmean(np.nan_to_num(np.max(corr_matrix, axis=0) ** 2 / np.sum(corr_matrix, axis=0)))
        score_y = np.nanmean(np.nan_to_num(np.max(corr_matrix, axis=1) ** 2 / np.sum(corr_matrix, axis=1)))
    return float((score_x + score_y) / 2)


def spearman_correlation_conv(vec1, vec2):
    """|Spearman correlation| [D1, D2] between every latent of `vec1` [N, D1] and of `vec2` [N, D2].

    A constant latent correlates with nothing: its row or column is NaN, as scipy's `spearmanr` gives.
    """
    assert vec1.shape == vec2.shape
    ranks1 = scipy.stats.rankdata(vec1, axis=0)
    ranks2 = scipy.stats.rankdata(vec2, axis=0)
    ranks1 = ranks1 - ranks1.mean(axis=0)
    ranks2 = ranks2 - ranks2.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = (ranks1.T @ ranks2) / np.outer(np.sqrt(np.sum(ranks1 ** 2, axis=0)),
                                                      np.sqrt(np.sum(ranks2 ** 2, axis=0)))
    return np.abs(np.clip(correlation, -1., 1.))


def lasso_correlation_matrix(vec1, vec2, random_state=None):
    """|Lasso coefficients| [D1, D2] (alpha 0.1) of the latents of `vec1` [N, D1] predicting each of `vec2`."""
    assert vec1.shape == vec2.shape
    model = linear_model.Lasso(random_state=random_state, alpha=0.1)
    model.fit(vec1, vec2)
    return np.transpose(np.abs(model.coef_))
