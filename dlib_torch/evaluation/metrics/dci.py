"""Disentanglement, Completeness and Informativeness (DCI).

Based on "A Framework for the Quantitative Evaluation of Disentangled Representations"
(https://openreview.net/forum?id=By-7dz-AZ). One gradient-boosted-tree classifier per factor gives an
importance matrix R [num_codes, num_factors]; disentanglement and completeness are importance-weighted
1 - entropy of its rows and columns; informativeness is the classifiers' mean accuracy.

With `dci.paper_variant = True`, the scores of Montero et al., "The Role of Disentanglement in
Generalisation" (ICLR 2021) are reported beside: R = |Lasso coefficients| (alpha 0.02) of the centred training
codes predicting each standardised factor, as `lasso_disentanglement` and `lasso_completeness`.
"""
import gin
import numpy as np
import scipy.stats
from sklearn import linear_model

from dlib_torch.evaluation.metrics import parallel
from dlib_torch.evaluation.metrics import utils

PAPER_LASSO_ALPHA = 0.02


@gin.configurable("dci", denylist=utils.METRIC_ARGUMENTS)
def compute_dci(ground_truth_data, representation_function, random_state, artifact_dir=None,
                num_train=gin.REQUIRED, num_test=gin.REQUIRED, batch_size=16, paper_variant=False,
                lasso_alpha=PAPER_LASSO_ALPHA):
    """Computes the DCI scores.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_train: points the classifiers are trained on.
      num_test: points the test accuracy is measured on.
      batch_size: batch size of the sampling.
      paper_variant: also report Montero et al.'s Lasso-based `lasso_disentanglement`/`lasso_completeness`.
      lasso_alpha: the Lasso penalty of the paper variant.

    Returns:
      Dict with `informativeness_train`, `informativeness_test` (mean accuracies), `disentanglement` and
      `completeness` (and the paper variant's keys).
    """
    del artifact_dir
    mus_train, ys_train = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_train,
                                                           random_state, batch_size)
    mus_test, ys_test = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_test,
                                                         random_state, batch_size)
    return dci_from_codes(mus_train.T, ys_train.T, mus_test.T, ys_test.T, random_state=random_state,
                          paper_variant=paper_variant, lasso_alpha=lasso_alpha)


def dci_from_codes(codes_train, factors_train, codes_test, factors_test, random_state=0, paper_variant=False,
                   lasso_alpha=PAPER_LASSO_ALPHA):
    """DCI scores of codes [N, D] with discrete factors [N, K] (train and test sets).

    `random_state` (RandomState or int) seeds the estimators without being advanced.
    """
    random_state = utils.as_random_state(random_state)
    seeds = utils.derived_seeds(random_state, 2)
    importance_matrix, train_accuracy, test_accuracy = compute_importance_gbt(
        np.transpose(codes_train), np.transpose(factors_train), np.transpose(codes_test),
        np.transpose(factors_test), seed=seeds[0])
    scores = {
        "informativeness_train": train_accuracy,
        "informativeness_test": test_accuracy,
        "disentanglement": disentanglement(importance_matrix),
        "completeness": completeness(importance_matrix),
    }
    if paper_variant:
        lasso_importance = lasso_importance_matrix(codes_train, factors_train, lasso_alpha, seed=seeds[1])
        scores["lasso_disentanglement"] = disentanglement(lasso_importance)
        scores["lasso_completeness"] = completeness(lasso_importance)
    return utils.as_python(scores)


@gin.configurable("dci_validation", denylist=["observations", "labels", "representation_function"])
def compute_dci_on_fixed_data(observations, labels, representation_function, train_percentage=gin.REQUIRED,
                              batch_size=100):
    """DCI on fixed observations and their factors `labels` [num_factors, num_observations], split in order."""
    mus = utils.obtain_representation(observations, representation_function, batch_size)
    mus_train, mus_test = utils.split_train_test(mus, train_percentage)
    ys_train, ys_test = utils.split_train_test(labels, train_percentage)
    return dci_from_codes(mus_train.T, ys_train.T, mus_test.T, ys_test.T)


def compute_importance_gbt(x_train, y_train, x_test, y_test, seed=0):
    """GBT importances [num_codes, num_factors] and mean train/test accuracies (layout [dims, points]).

    One classifier per factor (gin's `gradient_boosting_classifier`), fitted in parallel; `seed` fixes the
    trees' tie-breaking (the reference leaves it to the global RNG).
    """
    tasks = [(utils.gradient_boosting_classifier(random_state=int(seed)), x_train.T, y_train[i], x_test.T,
              y_test[i]) for i in range(y_train.shape[0])]
    results = parallel.map_in_parallel(_fit_gbt, tasks, costs=[len(np.unique(y)) for y in y_train])
    importance_matrix = np.stack([importances for importances, _, _ in results], axis=1)
    return (importance_matrix, float(np.mean([result[1] for result in results])),
            float(np.mean([result[2] for result in results])))


def _fit_gbt(model, x_train, y_train, x_test, y_test):
    train_accuracy, test_accuracy = utils.fit_and_score(model, x_train, y_train, x_test, y_test)
    return np.abs(model.feature_importances_), train_accuracy, test_accuracy


def lasso_importance_matrix(codes, factors, alpha=PAPER_LASSO_ALPHA, seed=0):
    """Montero et al.'s importances [D, K]: |Lasso coefficients| of centred codes [N, D] predicting each
    standardised factor of [N, K] (a constant factor gets a zero column)."""
    codes = np.asarray(codes, dtype=np.float64)
    codes = codes - codes.mean(axis=0)
    factors = np.asarray(factors, dtype=np.float64)
    importance_matrix = np.zeros((codes.shape[1], factors.shape[1]))
    for k in range(factors.shape[1]):
        std = factors[:, k].std()
        if std > 0:
            target = (factors[:, k] - factors[:, k].mean()) / std
            # The paper's LassoCV(cv=5, alphas=[alpha]) refits this same model on all the data.
            model = linear_model.Lasso(alpha=alpha, selection="random", random_state=int(seed)).fit(codes, target)
            importance_matrix[:, k] = np.abs(model.coef_)
    return importance_matrix


def disentanglement_per_code(importance_matrix):
    """1 - entropy (base num_factors) of each code's importance distribution over factors."""
    return 1. - scipy.stats.entropy(importance_matrix.T + 1e-11, base=importance_matrix.shape[1])


def disentanglement(importance_matrix):
    """Disentanglement: per-code scores weighted by each code's share of the total importance."""
    return _weighted(disentanglement_per_code(importance_matrix), importance_matrix, axis=1)


def _weighted(scores, importance_matrix, axis):
    """`scores` (per code: axis 1, per factor: axis 0) weighted by each one's share of the total importance
    (equal shares when every importance is 0)."""
    if importance_matrix.sum() == 0.:
        importance_matrix = np.ones_like(importance_matrix)
    return float(np.sum(scores * importance_matrix.sum(axis=axis) / importance_matrix.sum()))


def completeness_per_factor(importance_matrix):
    """1 - entropy (base num_codes) of each factor's importance distribution over codes."""
    return 1. - scipy.stats.entropy(importance_matrix + 1e-11, base=importance_matrix.shape[0])


def completeness(importance_matrix):
    """Completeness: per-factor scores weighted by each factor's share of the total importance."""
    return _weighted(completeness_per_factor(importance_matrix), importance_matrix, axis=0)
