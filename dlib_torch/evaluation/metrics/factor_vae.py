"""The disentanglement metric of the FactorVAE paper.

Based on "Disentangling by Factorising" (https://arxiv.org/abs/1802.05983). Each vote fixes one factor k in a
batch; the code dimension with the least variance (relative to its global variance) votes for k; a majority
vote classifier maps dimensions to factors, and its accuracy is the score.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import factor_rows
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import progress


@gin.configurable("factor_vae_score",
                  denylist=utils.METRIC_ARGUMENTS)
def compute_factor_vae(ground_truth_data, representation_function, random_state, artifact_dir=None,
                       batch_size=gin.REQUIRED, num_train=gin.REQUIRED, num_eval=gin.REQUIRED,
                       num_variance_estimate=gin.REQUIRED, fix_num_active_dims=False):
    """Computes the FactorVAE score.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      batch_size: observations per vote (all sharing the value of one factor).
      num_train: number of votes that train the majority-vote classifier.
      num_eval: number of votes that evaluate it.
      num_variance_estimate: observations used to estimate each dimension's global variance.
      fix_num_active_dims: the reference reports `num_active_dims` = the total number of dimensions (its
        bug, kept by default); True reports the number of dimensions kept by `prune_dims.threshold`.

    Returns:
      Dict with `train_accuracy`, `eval_accuracy` and `num_active_dims`.
    """
    del artifact_dir
    observations = ground_truth_data.sample_observations(num_variance_estimate, random_state)
    codes = np.transpose(utils.obtain_representation(observations, representation_function, 64))
    global_variances = np.var(codes, axis=0, ddof=1)
    active_dims = _prune_dims(global_variances)
    if not active_dims.any():
        return {"train_accuracy": 0., "eval_accuracy": 0., "num_active_dims": 0}
    train_votes = _sample_votes(ground_truth_data, representation_function, batch_size, num_train,
                                random_state, global_variances, active_dims)
    eval_votes = _sample_votes(ground_truth_data, representation_function, batch_size, num_eval,
                               random_state, global_variances, active_dims)
    return _scores(train_votes, eval_votes, active_dims, fix_num_active_dims)


def factor_vae_from_codes(codes, factors, random_state=0, batch_size=64, num_train=10000, num_eval=5000,
                          num_variance_estimate=10000, threshold=0.05, fix_num_active_dims=False):
    """The FactorVAE score on your own arrays: codes [N, D] and the integer factors [N, K] they came from.

    Each vote's batch is one uniform row plus rows drawn among those sharing its value of the fixed factor
    (see factor_rows). Defaults are the study's settings (`prune_dims.threshold = 0.05`).
    """
    random_state = utils.as_random_state(random_state)
    codes = np.asarray(codes)
    rows = factor_rows.FactorRows(factors)
    global_variances = np.var(codes[rows.sample(num_variance_estimate, random_state)], axis=0, ddof=1)
    active_dims = _prune_dims(global_variances, threshold)
    if not active_dims.any():
        return {"train_accuracy": 0., "eval_accuracy": 0., "num_active_dims": 0}
    train_votes, eval_votes = [
        _votes_from_rows(codes, rows, batch_size, num_points, random_state, global_variances, active_dims)
        for num_points in (num_train, num_eval)]
    return _scores(train_votes, eval_votes, active_dims, fix_num_active_dims)


@gin.configurable("prune_dims", denylist=["variances"])
def _prune_dims(variances, threshold=0.):
    """Mask of the dimensions whose standard deviation reaches `threshold` (the others collapsed to the prior)."""
    return np.sqrt(variances) >= threshold


def _scores(train_votes, eval_votes, active_dims, fix_num_active_dims):
    """Accuracy of the majority-vote classifier (trained on `train_votes`) on both vote tables."""
    classifier = np.argmax(train_votes, axis=0)
    dims = np.arange(train_votes.shape[1])
    return {
        "train_accuracy": float(np.sum(train_votes[classifier, dims]) / np.sum(train_votes)),
        "eval_accuracy": float(np.sum(eval_votes[classifier, dims]) / np.sum(eval_votes)),
        "num_active_dims": int(np.sum(active_dims)) if fix_num_active_dims else len(active_dims),
    }


def _add_votes(votes, factor_indices, local_variances, global_variances, active_dims):
    # As in the reference, the vote goes to the argmin's position among the active dimensions (not to the
    # dimension's index); the accuracy is the same either way.
    ratios = local_variances[:, active_dims] / global_variances[active_dims]
    np.add.at(votes, (factor_indices, np.argmin(ratios, axis=1)), 1)


def _sample_votes(ground_truth_data, representation_function, batch_size, num_points, random_state,
                  global_variances, active_dims):
    """Vote table [num_factors, num_codes], sampled in the reference's order."""
    factor_indices = np.zeros(num_points, dtype=np.int64)

    def observation_batches():
        for i in progress.iterate(range(num_points), "sampling votes", unit="points"):
            factor_indices[i] = random_state.randint(ground_truth_data.num_factors)
            factors = ground_truth_data.sample_factors(batch_size, random_state)
            factors[:, factor_indices[i]] = factors[0, factor_indices[i]]
            yield ground_truth_data.sample_observations_from_factors(factors, random_state)

    local_variances = np.array([np.var(codes, axis=0, ddof=1) for codes in
                                utils.encode_batches(observation_batches(), representation_function)])
    votes = np.zeros((ground_truth_data.num_factors, global_variances.shape[0]), dtype=np.int64)
    _add_votes(votes, factor_indices, local_variances, global_variances, active_dims)
    return votes


def _votes_from_rows(codes, rows, batch_size, num_points, random_state, global_variances, active_dims):
    factor_indices = random_state.randint(rows.num_factors, size=num_points)
    first_rows = rows.sample(num_points, random_state)
    batch_rows = np.zeros((num_points, batch_size), dtype=np.int64)
    batch_rows[:, 0] = first_rows
    for factor in range(rows.num_factors):
        points = factor_indices == factor
        values = np.repeat(rows.factors[first_rows[points], factor], batch_size - 1)
        batch_rows[points, 1:] = rows.sample_matching(factor, values, random_state).reshape(-1, batch_size - 1)
    local_variances = np.var(codes[batch_rows], axis=1, ddof=1)
    votes = np.zeros((rows.num_factors, codes.shape[1]), dtype=np.int64)
    _add_votes(votes, factor_indices, local_variances, global_variances, active_dims)
    return votes
