"""Reduced downstream classification: accuracies after removing the codes most predictive of one factor.

For each factor of interest, the code with the largest importance for it (gin's
`reduced_representation.correlation_measure`, e.g. `@factorwise_dci`) is deleted, `num_factors_to_remove`
times with importances recomputed on the remaining codes; then every factor is predicted from what is left.
Information that leaks into the other codes shows as accuracy on the reduced factor.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import downstream_task
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils.errors import ConfigError


@gin.configurable("reduced_downstream_task",
                  denylist=utils.METRIC_ARGUMENTS)
def compute_reduced_downstream_task(ground_truth_data, representation_function, random_state, artifact_dir=None,
                                    num_factors_to_remove=gin.REQUIRED, num_train=gin.REQUIRED,
                                    num_test=gin.REQUIRED, batch_size=16):
    """Computes the reduced downstream accuracies.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_factors_to_remove: number of codes removed per factor of interest.
      num_train: list of train sizes; each gets fresh train and test sets.
      num_test: number of test points.
      batch_size: batch size of the sampling.

    Returns:
      Dict with, for each train size n and factor of interest f, `n:reduced_factor_f:...` accuracies of
      every factor, and the aggregates `n:mean_{train,test}_accuracy_{reduced_factor,other_factors}`.
    """
    del artifact_dir
    scores = {}
    for train_size in num_train:
        mus_train, ys_train = utils.generate_batch_factor_code(ground_truth_data, representation_function,
                                                               train_size, random_state, batch_size)
        mus_test, ys_test = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_test,
                                                             random_state, batch_size)
        scores.update(reduced_downstream_task_from_codes(
            mus_train.T, ys_train.T, mus_test.T, ys_test.T, num_factors_to_remove, utils.make_predictor_fn(),
            _configured_correlation_measure(), random_state))
    return scores


def reduced_downstream_task_from_codes(codes_train, factors_train, codes_test, factors_test,
                                       num_factors_to_remove, predictor_fn, correlation_measure=None,
                                       random_state=0):
    """Reduced downstream accuracies of codes [N, D] with factors [N, K], keyed by the train size N.

    `correlation_measure(mus_train, ys_train, mus_test, ys_test)` ([dims, points] layout) returns the importance
    matrix [D, K]; default: `compute_factorwise_dci` (GBT importances).
    """
    correlation_measure = correlation_measure or compute_factorwise_dci
    mus_train, ys_train = np.transpose(codes_train), np.transpose(factors_train)
    mus_test, ys_test = np.transpose(codes_test), np.transpose(factors_test)
    num_factors = ys_train.shape[0]
    kept_codes = _kept_codes(mus_train, ys_train, mus_test, ys_test, num_factors_to_remove, correlation_measure)
    sets = [(mus_train[kept].T, ys_train, mus_test[kept].T, ys_test) for kept in kept_codes]
    accuracies = downstream_task.predictive_accuracies(sets, predictor_fn, random_state)

    size_string = str(mus_train.shape[1])
    scores = {}
    reduced_train, reduced_test, other_train, other_test = [], [], [], []
    for factor, (train_accuracy, test_accuracy) in enumerate(accuracies):
        prefix = "{}:reduced_factor_{}:".format(size_string, factor)
        scores[prefix + "mean_train_accuracy_reduced_factor"] = train_accuracy[factor]
        scores[prefix + "mean_test_accuracy_reduced_factor"] = test_accuracy[factor]
        for i in range(num_factors):
            scores[prefix + "mean_train_accuracy_factor_{}".format(i)] = train_accuracy[i]
            scores[prefix + "mean_test_accuracy_factor_{}".format(i)] = test_accuracy[i]
        others = [i for i in range(num_factors) if i != factor]
        scores[prefix + "mean_train_accuracy_non_reduced_factor"] = float(np.mean([train_accuracy[i] for i in others]))
        scores[prefix + "mean_test_accuracy_non_reduced_factor"] = float(np.mean([test_accuracy[i] for i in others]))
        reduced_train.append(train_accuracy[factor])
        reduced_test.append(test_accuracy[factor])
        other_train.append(scores[prefix + "mean_train_accuracy_non_reduced_factor"])
        other_test.append(scores[prefix + "mean_test_accuracy_non_reduced_factor"])
    scores[size_string + ":mean_train_accuracy_reduced_factor"] = float(np.mean(reduced_train))
    scores[size_string + ":mean_test_accuracy_reduced_factor"] = float(np.mean(reduced_test))
    scores[size_string + ":mean_train_accuracy_other_factors"] = float(np.mean(other_train))
    scores[size_string + ":mean_test_accuracy_other_factors"] = float(np.mean(other_test))
    return scores


def _kept_codes(mus_train, ys_train, mus_test, ys_test, num_factors_to_remove, correlation_measure):
    """For each factor of interest, the indices of the codes left after the removals.

    The removal paths of all factors are followed together; identical reduced representations (e.g. the full
    one at the first step) get their importances computed once.
    """
    kept_codes = [np.arange(mus_train.shape[0]) for _ in range(ys_train.shape[0])]
    for _ in range(num_factors_to_remove):
        importances = {}
        for factor, kept in enumerate(kept_codes):
            if tuple(kept) not in importances:
                importances[tuple(kept)] = correlation_measure(mus_train[kept], ys_train, mus_test[kept], ys_test)
            most_important = np.argmax(importances[tuple(kept)][:, factor])
            kept_codes[factor] = np.delete(kept, most_important)
    return kept_codes


def compute_predictive_accuracy(x_train, y_train, x_test, y_test, predictor_fn, random_state=0):
    """Train and test accuracy lists of one `predictor_fn()` per factor (x [N, D], y [K, N])."""
    (train_accuracy, test_accuracy), = downstream_task.predictive_accuracies([(x_train, y_train, x_test, y_test)],
                                                                             predictor_fn, random_state)
    return train_accuracy, test_accuracy


def _configured_correlation_measure():
    """The function bound to gin's `reduced_representation.correlation_measure`."""
    try:
        measure = gin.query_parameter("reduced_representation.correlation_measure")
    except ValueError:
        raise ConfigError("reduced_downstream_task needs `reduced_representation.correlation_measure` "
                          "(e.g. @factorwise_dci)") from None
    if isinstance(measure, gin.config.ConfigurableReference):
        return measure.scoped_configurable_fn
    return measure


@gin.configurable("reduced_representation")
def compute_reduced_representation(mus_train, ys_train, mus_test, ys_test, factor_of_interest,
                                   correlation_measure=gin.REQUIRED):
    """Deletes the code most important for `factor_of_interest` from the train and test codes ([dims, points])."""
    importance_matrix = correlation_measure(mus_train, ys_train, mus_test, ys_test)
    factor_to_remove_index = np.argmax(importance_matrix[:, factor_of_interest])
    return (np.delete(mus_train.copy(), factor_to_remove_index, axis=0),
            np.delete(mus_test.copy(), factor_to_remove_index, axis=0))


@gin.configurable("factorwise_dci", denylist=["mus_train", "ys_train", "mus_test", "ys_test"])
def compute_factorwise_dci(mus_train, ys_train, mus_test, ys_test):
    """The DCI importance matrix [num_codes, num_factors] of gradient-boosted trees ([dims, points] layout)."""
    importance_matrix, _, _ = dci.compute_importance_gbt(mus_train, ys_train, mus_test, ys_test)
    return importance_matrix
