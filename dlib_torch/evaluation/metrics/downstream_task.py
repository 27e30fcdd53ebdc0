"""Downstream classification: how well each factor can be predicted from the codes, for several train sizes.

The classifier is gin's `predictor.predictor_fn` (`@logistic_regression_cv` or `@gradient_boosting_classifier`
in the study). All fits, over factors and train sizes, run in parallel.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import parallel
from dlib_torch.evaluation.metrics import utils


@gin.configurable("downstream_task",
                  denylist=utils.METRIC_ARGUMENTS)
def compute_downstream_task(ground_truth_data, representation_function, random_state, artifact_dir=None,
                            num_train=gin.REQUIRED, num_test=gin.REQUIRED, batch_size=16):
    """Computes the downstream accuracies.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_train: list of train sizes; each gets fresh train and test sets.
      num_test: number of test points.
      batch_size: batch size of the sampling.

    Returns:
      Dict with, for each train size n, `n:mean_train_accuracy`, `n:mean_test_accuracy`,
      `n:min_train_accuracy`, `n:min_test_accuracy`, `n:train_accuracy_factor_i`, `n:test_accuracy_factor_i`.
    """
    del artifact_dir
    sets = []
    for train_size in num_train:
        mus_train, ys_train = utils.generate_batch_factor_code(ground_truth_data, representation_function,
                                                               train_size, random_state, batch_size)
        mus_test, ys_test = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_test,
                                                             random_state, batch_size)
        sets.append((mus_train.T, ys_train, mus_test.T, ys_test))
    accuracies = predictive_accuracies(sets, utils.make_predictor_fn(), random_state)
    scores = {}
    for train_size, (train_accuracy, test_accuracy) in zip(num_train, accuracies):
        scores.update(_scores(str(train_size), train_accuracy, test_accuracy))
    return scores


def downstream_task_from_codes(codes_train, factors_train, codes_test, factors_test, predictor_fn,
                               random_state=0):
    """Downstream accuracies of codes [N, D] with factors [N, K], keyed by the train size N as the reference.

    `predictor_fn()` returns an unfitted classifier (e.g. `utils.gradient_boosting_classifier`).
    """
    sets = [(np.asarray(codes_train), np.transpose(factors_train), np.asarray(codes_test),
             np.transpose(factors_test))]
    (train_accuracy, test_accuracy), = predictive_accuracies(sets, predictor_fn, random_state)
    return _scores(str(len(codes_train)), train_accuracy, test_accuracy)


def predictive_accuracies(sets, predictor_fn, random_state):
    """Per set (x_train [N, D], ys_train [K, N], x_test, ys_test): train and test accuracy lists over factors.

    One `predictor_fn()` per factor and set, seeded from `random_state` (not advanced), fitted in parallel.
    """
    tasks, costs = [], []
    seeds = utils.derived_seeds(utils.as_random_state(random_state), sum(len(s[1]) for s in sets))
    for x_train, ys_train, x_test, ys_test in sets:
        for i in range(ys_train.shape[0]):
            model = utils.seeded(predictor_fn(), seeds[len(tasks)])
            tasks.append((model, x_train, ys_train[i, :], x_test, ys_test[i, :]))
            costs.append(len(np.unique(ys_train[i, :])) * len(x_train))
    results = iter(parallel.map_in_parallel(utils.fit_and_score, tasks, costs))
    accuracies = []
    for _, ys_train, _, _ in sets:
        per_factor = [next(results) for _ in range(ys_train.shape[0])]
        accuracies.append(([train for train, _ in per_factor], [test for _, test in per_factor]))
    return accuracies


def _scores(size_string, train_accuracy, test_accuracy):
    scores = {
        size_string + ":mean_train_accuracy": float(np.mean(train_accuracy)),
        size_string + ":mean_test_accuracy": float(np.mean(test_accuracy)),
        size_string + ":min_train_accuracy": float(np.min(train_accuracy)),
        size_string + ":min_test_accuracy": float(np.min(test_accuracy)),
    }
    for i in range(len(train_accuracy)):
        scores[size_string + ":train_accuracy_factor_{}".format(i)] = train_accuracy[i]
        scores[size_string + ":test_accuracy_factor_{}".format(i)] = test_accuracy[i]
    return scores
