"""Downstream classification under covariate shift ("strong generalization").

For each target factor and experiment: another factor is fixed to one value in the training set and takes
only its other values in the test set; the accuracy drop against the plain downstream task is the
`strong_generalization_gap`.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import downstream_task
from dlib_torch.evaluation.metrics import factor_rows
from dlib_torch.evaluation.metrics import utils


@gin.configurable("strong_downstream_task",
                  denylist=utils.METRIC_ARGUMENTS)
def compute_strong_downstream_task(ground_truth_data, representation_function, random_state, artifact_dir=None,
                                   num_train=gin.REQUIRED, num_test=gin.REQUIRED, n_experiment=gin.REQUIRED,
                                   fix_global_random_state=False):
    """Computes the strong downstream accuracies.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_train: list of train sizes.
      num_test: number of test points.
      n_experiment: interventions per target factor.
      fix_global_random_state: the reference draws the interventions from the global `np.random` (its bug,
        kept by default, so the results depend on whatever seeded or used it before); True draws them from
        `random_state`.

    Returns:
      Dict with, for each train size n, `n:mean_train_accuracy`, `n:mean_test_accuracy`,
      `n:mean_strong_train_accuracy`, `n:mean_strong_test_accuracy` and `n:strong_generalization_gap`.
    """
    del artifact_dir
    intervention_random_state = random_state if fix_global_random_state else np.random
    num_factors = ground_truth_data.num_factors
    sets = []
    for train_size in num_train:
        factors_train = ground_truth_data.sample_factors(train_size, random_state)
        factors_test = ground_truth_data.sample_factors(num_test, random_state)
        mus_train, mus_test = _codes(ground_truth_data, representation_function,
                                     [factors_train, factors_test], random_state)
        sets.append((mus_train, factors_train.T, mus_test, factors_test.T))
        for i in range(num_factors):
            for _ in range(n_experiment):
                factors_train_int, factors_test_int, _, _ = intervene(
                    factors_train.copy(), factors_test.copy(), i, num_factors, ground_truth_data,
                    intervention_random_state)
                codes_train_int, codes_test_int = _codes(ground_truth_data, representation_function,
                                                         [factors_train_int, factors_test_int], random_state)
                sets.append((codes_train_int, factors_train_int.T[i:i + 1], codes_test_int,
                             factors_test_int.T[i:i + 1]))
    return _scores(num_train, num_factors, n_experiment, sets, utils.make_predictor_fn(), random_state)


def strong_downstream_task_from_codes(codes, factors, predictor_fn, random_state=0, num_train=(10000,),
                                      num_test=5000, n_experiment=10, factors_num_values=None,
                                      fix_global_random_state=False):
    """Strong downstream accuracies of codes [N, D] with integer factor indices [N, K].

    Train and test rows are drawn uniformly; an intervention replaces each row by its counterfactual row
    (same factors but the intervened one), so the rows must contain those combinations, e.g. the whole factor
    grid (see factor_rows). `factors_num_values` defaults to max + 1 per factor.
    """
    random_state = utils.as_random_state(random_state)
    codes = np.asarray(codes)
    rows = factor_rows.FactorRows(factors)
    sizes = _NumValues(factors_num_values or list(rows.factors.max(axis=0) + 1))
    intervention_random_state = random_state if fix_global_random_state else np.random
    sets = []
    for train_size in num_train:
        rows_train, rows_test = rows.sample(train_size, random_state), rows.sample(num_test, random_state)
        sets.append((codes[rows_train], rows.factors[rows_train].T, codes[rows_test], rows.factors[rows_test].T))
        for i in range(rows.num_factors):
            for _ in range(n_experiment):
                factors_train_int, factors_test_int, factor, _ = intervene(
                    rows.factors[rows_train], rows.factors[rows_test], i, rows.num_factors, sizes,
                    intervention_random_state)
                rows_train_int = rows.counterfactual(rows_train, factor, factors_train_int[:, factor],
                                                     random_state)
                rows_test_int = rows.counterfactual(rows_test, factor, factors_test_int[:, factor], random_state)
                sets.append((codes[rows_train_int], factors_train_int.T[i:i + 1], codes[rows_test_int],
                             factors_test_int.T[i:i + 1]))
    return _scores(num_train, rows.num_factors, n_experiment, sets, predictor_fn, random_state)


def intervene(y_train, y_test, target_y, num_factors, ground_truth_data, random_state=np.random):
    """Fixes a random factor other than `target_y` to one value in `y_train` and to other values in `y_test`.

    `random_state` defaults to the global `np.random`, as in the reference. Returns the changed arrays, the
    intervened factor and its training value.
    """
    interv_factor = random_state.choice([j for j in range(num_factors) if j != target_y])
    all_val_factor = list(range(ground_truth_data.factors_num_values[interv_factor]))
    factor_interv_train = random_state.choice(all_val_factor)
    all_val_factor.remove(factor_interv_train)
    y_train[:, interv_factor] = factor_interv_train
    y_test[:, interv_factor] = random_state.choice(all_val_factor, size=y_test.shape[0])
    return y_train, y_test, interv_factor, factor_interv_train


def _codes(ground_truth_data, representation_function, factor_batches, random_state):
    observation_batches = (ground_truth_data.sample_observations_from_factors(factors, random_state)
                           for factors in factor_batches)
    return list(utils.encode_batches(observation_batches, representation_function))


def _scores(num_train, num_factors, n_experiment, sets, predictor_fn, random_state):
    """Fits every set (per train size: the plain set, then one single-factor set per experiment)."""
    accuracies = iter(downstream_task.predictive_accuracies(sets, predictor_fn, random_state))
    scores = {}
    for train_size in num_train:
        train_accuracy, test_accuracy = next(accuracies)
        strong = [next(accuracies) for _ in range(num_factors * n_experiment)]
        size_string = str(train_size)
        scores[size_string + ":mean_train_accuracy"] = float(np.mean(train_accuracy))
        scores[size_string + ":mean_test_accuracy"] = float(np.mean(test_accuracy))
        scores[size_string + ":mean_strong_train_accuracy"] = float(np.mean([train for (train,), _ in strong]))
        scores[size_string + ":mean_strong_test_accuracy"] = float(np.mean([test for _, (test,) in strong]))
        scores[size_string + ":strong_generalization_gap"] = 1. - (
            scores[size_string + ":mean_strong_test_accuracy"] / scores[size_string + ":mean_test_accuracy"])
    return scores


class _NumValues:
    """Stands in for a data set where `intervene` only needs `factors_num_values`."""

    def __init__(self, factors_num_values):
        self.factors_num_values = list(factors_num_values)
