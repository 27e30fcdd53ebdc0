"""Fairness of classifiers trained on a representation.

Based on Section 4 of "On the Fairness of Disentangled Representations" (Locatello et al., NeurIPS 2019,
https://arxiv.org/abs/1905.13662). For a target factor i and a sensitive factor j, the unfairness of a
classifier predicting i is the total variation distance between its prediction distributions under the
interventions do(j = c) and overall; the paper's score is `mean_fairness:mean_pred:mean_sens`.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import factor_rows
from dlib_torch.evaluation.metrics import parallel
from dlib_torch.evaluation.metrics import utils


@gin.configurable("fairness", denylist=["ground_truth_data", "representation_function", "random_state",
                                        "artifact_dir"])
def compute_fairness(ground_truth_data, representation_function, random_state, artifact_dir=None,
                     num_train=gin.REQUIRED, num_test_points_per_class=gin.REQUIRED, batch_size=16):
    """Computes the unfairness scores.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_train: points the classifiers (gin's `predictor.predictor_fn`) are trained on.
      num_test_points_per_class: factor rows sampled per (target, sensitive) pair, each rendered once per
        value of the sensitive factor.
      batch_size: batch size of the sampling.

    Returns:
      Dict with `{mean,max}_fairness:pred{i}:sens{j}` and their means and maxima over targets and sensitive
      factors (see `compute_scores_dict`).
    """
    del artifact_dir
    factor_counts = ground_truth_data.factors_num_values
    mus_train, ys_train = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_train,
                                                           random_state, batch_size)
    models = _fit_predictors(mus_train.T, ys_train, utils.make_predictor_fn(), random_state)
    interventions = []  # (target, sensitive, value) of each observation batch, in sampling order

    def observation_batches():
        for i, j in _pairs(len(factor_counts)):
            original_factors = ground_truth_data.sample_factors(num_test_points_per_class, random_state)
            for c in range(factor_counts[j]):
                intervened_factors = np.copy(original_factors)
                intervened_factors[:, j] = c
                interventions.append((i, j, c))
                yield ground_truth_data.sample_observations_from_factors(intervened_factors, random_state)

    predictions = []
    for position, codes in enumerate(utils.encode_batches(observation_batches(), representation_function)):
        target = interventions[position][0]  # appended by the generator before it yielded these observations
        predictions.append(models[target].predict(codes))
    return _scores(factor_counts, interventions, predictions)


def fairness_from_codes(codes, factors, predictor_fn, random_state=0, num_train=10000,
                        num_test_points_per_class=100, factors_num_values=None):
    """Unfairness scores of codes [N, D] with integer factor indices [N, K] (values 0..n-1).

    The classifiers train on uniformly drawn rows; each intervention do(j = c) maps drawn rows to their
    counterfactual rows, so the rows must contain those combinations, e.g. the whole factor grid (see
    factor_rows). `factors_num_values` defaults to max + 1 per factor.
    """
    random_state = utils.as_random_state(random_state)
    codes = np.asarray(codes)
    rows = factor_rows.FactorRows(factors)
    factor_counts = list(factors_num_values or rows.factors.max(axis=0) + 1)
    train_rows = rows.sample(num_train, random_state)
    models = _fit_predictors(codes[train_rows], rows.factors[train_rows].T, predictor_fn, random_state)
    interventions, predictions = [], []
    for i, j in _pairs(len(factor_counts)):
        original_rows = rows.sample(num_test_points_per_class, random_state)
        for c in range(factor_counts[j]):
            interventions.append((i, j, c))
            predictions.append(models[i].predict(codes[rows.counterfactual(original_rows, j, c, random_state)]))
    return _scores(factor_counts, interventions, predictions)


def _pairs(num_factors):
    return [(i, j) for i in range(num_factors) for j in range(num_factors) if i != j]


def _fit_predictors(x_train, ys_train, predictor_fn, random_state):
    """One fitted `predictor_fn()` per factor (x_train [N, D], ys_train [K, N]), fitted in parallel."""
    seeds = utils.derived_seeds(random_state, ys_train.shape[0])
    tasks = [(utils.seeded(predictor_fn(), seeds[i]), x_train, ys_train[i]) for i in range(ys_train.shape[0])]
    return parallel.map_in_parallel(_fit, tasks, costs=[len(np.unique(y)) for y in ys_train])


def _fit(model, x_train, y_train):
    return model.fit(x_train, y_train)


def _scores(factor_counts, interventions, predictions):
    """Fills the prediction counts of every (target, sensitive) pair and scores them."""
    num_factors = len(factor_counts)
    mean_fairness = np.zeros((num_factors, num_factors), dtype=np.float64)
    max_fairness = np.zeros((num_factors, num_factors), dtype=np.float64)
    counts = None
    for (i, j, c), prediction in zip(interventions, predictions):
        if c == 0:
            counts = np.zeros((factor_counts[i], factor_counts[j]), dtype=np.int64)
        counts[:, c] = np.bincount(prediction, minlength=factor_counts[i])
        if c == factor_counts[j] - 1:
            mean_fairness[i, j], max_fairness[i, j] = inter_group_fairness(counts)
    scores = {}
    scores.update(compute_scores_dict(mean_fairness, "mean_fairness"))
    scores.update(compute_scores_dict(max_fairness, "max_fairness"))
    return utils.as_python(scores)


def compute_scores_dict(metric, prefix):
    """Scores of every (target i, sensitive j != i) pair of `metric` [K, K], and their means and maxima.

    Keys: `prefix:pred{i}:sens{j}`, `prefix:pred{i}:{mean,max}_sens`, `prefix:sens{j}:{mean,max}_pred`, and
    the eight aggregates `prefix:{mean,max}_sens:{mean,max}_pred` and `prefix:{mean,max}_pred:{mean,max}_sens`.
    """
    result = {}
    for i in range(metric.shape[0]):
        for j in range(metric.shape[1]):
            if i != j:
                result["{}:pred{}:sens{}".format(prefix, i, j)] = metric[i, j]
    # Per predicted factor (rows, over sensitive factors) and per sensitive factor (columns, over predicted ones):
    # the mean and the max of the off-diagonal scores.
    per = {}
    for matrix, name, other in ((metric, "pred", "sens"), (metric.T, "sens", "pred")):
        means, maxs = per[name] = [], []
        for i in range(matrix.shape[0]):
            relevant_scores = [matrix[i, j] for j in range(matrix.shape[1]) if i != j]
            means.append(np.mean(relevant_scores))
            maxs.append(np.amax(relevant_scores))
            result["{}:{}{}:mean_{}".format(prefix, name, i, other)] = means[-1]
            result["{}:{}{}:max_{}".format(prefix, name, i, other)] = maxs[-1]
    rows_means, rows_maxs = per["pred"]
    column_means, column_maxs = per["sens"]
    result["{}:mean_sens:mean_pred".format(prefix)] = np.mean(column_means)
    result["{}:mean_sens:max_pred".format(prefix)] = np.mean(column_maxs)
    result["{}:max_sens:mean_pred".format(prefix)] = np.amax(column_means)
    result["{}:max_sens:max_pred".format(prefix)] = np.amax(column_maxs)
    result["{}:mean_pred:mean_sens".format(prefix)] = np.mean(rows_means)
    result["{}:mean_pred:max_sens".format(prefix)] = np.mean(rows_maxs)
    result["{}:max_pred:mean_sens".format(prefix)] = np.amax(rows_means)
    result["{}:max_pred:max_sens".format(prefix)] = np.amax(rows_maxs)
    return result


def inter_group_fairness(counts):
    """Mean (weighted by class size) and maximum total variation distance between the prediction distribution
    of each sensitive class and the overall one; `counts` is [predicted class, sensitive class].

    float32 arithmetic, as in the reference.
    """
    overall_distribution = np.sum(counts, axis=1, dtype=np.float32)
    overall_distribution /= overall_distribution.sum()
    normalized_counts = np.array(counts, dtype=np.float32)
    counts_per_class = np.sum(counts, axis=0)
    normalized_counts /= np.expand_dims(counts_per_class, 0)
    differences = normalized_counts - np.expand_dims(overall_distribution, 1)
    total_variation_distances = np.sum(np.abs(differences), 0) / 2.
    mean = total_variation_distances * counts_per_class
    mean /= counts_per_class.sum()
    return np.sum(mean), np.amax(total_variation_distances)
