"""Modularity and explicitness, from the F-statistic paper.

Based on "Learning Deep Disentangled Embeddings With the F-Statistic Loss" (https://arxiv.org/pdf/1802.05312.pdf).
Modularity: how much of each code's mutual information goes to a single factor. Explicitness: ROC-AUC of a
logistic regression predicting each factor from all (standardised) codes.
"""
import gin
import numpy as np
from sklearn import metrics
from sklearn import preprocessing

from dlib_torch.evaluation.metrics import parallel
from dlib_torch.evaluation.metrics import utils


@gin.configurable("modularity_explicitness",
                  denylist=utils.METRIC_ARGUMENTS)
def compute_modularity_explicitness(ground_truth_data, representation_function, random_state, artifact_dir=None,
                                    num_train=gin.REQUIRED, num_test=gin.REQUIRED, batch_size=16):
    """Computes modularity and explicitness; codes are discretized by gin's `discretizer` for the modularity.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_train: points for the mutual information and the classifiers' training.
      num_test: points for the classifiers' test ROC-AUC.
      batch_size: batch size of the sampling.

    Returns:
      Dict with `modularity_score`, `explicitness_score_train` and `explicitness_score_test`.
    """
    del artifact_dir
    mus_train, ys_train = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_train,
                                                           random_state, batch_size)
    mus_test, ys_test = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_test,
                                                         random_state, batch_size)
    return modularity_explicitness_from_codes(mus_train.T, ys_train.T, mus_test.T, ys_test.T,
                                              discretizer=utils.make_discretizer, random_state=random_state)


def modularity_explicitness_from_codes(codes_train, factors_train, codes_test, factors_test, discretizer=None,
                                       random_state=0, sklearn_version=None):
    """Modularity and explicitness of codes [N, D] with discrete factors [N, K] (train and test sets).

    `discretizer` maps codes [D, N] to discrete codes; default: 20-bin histograms (the study's setting).
    """
    mus_train, ys_train = np.transpose(codes_train), np.transpose(factors_train)
    mus_test, ys_test = np.transpose(codes_test), np.transpose(factors_test)
    discretizer = discretizer or utils.default_discretizer
    mutual_information = utils.discrete_mutual_info(discretizer(mus_train), ys_train)
    mus_train_norm, mean_mus, stddev_mus = utils.normalize_data(mus_train)
    mus_test_norm, _, _ = utils.normalize_data(mus_test, mean_mus, stddev_mus)
    seed = utils.derived_seeds(utils.as_random_state(random_state), 1)[0]
    tasks = [(mus_train_norm, ys_train[i, :], mus_test_norm, ys_test[i, :],
              utils.logistic_regression(random_state=int(seed), version=sklearn_version))
             for i in range(ys_train.shape[0])]
    explicitness = np.array(parallel.map_in_parallel(explicitness_per_factor, tasks))
    return {
        "modularity_score": float(modularity(mutual_information)),
        "explicitness_score_train": float(np.mean(explicitness[:, 0])),
        "explicitness_score_test": float(np.mean(explicitness[:, 1])),
    }


def explicitness_per_factor(mus_train, y_train, mus_test, y_test, model=None):
    """Train and test macro ROC-AUC of a logistic regression predicting one factor from all codes.

    mus_* are codes [num_codes, num_points]; y_* the factor's values [num_points]; `model` defaults to the
    reference's `LogisticRegression()` under gin's `sklearn_defaults`.
    """
    model = model if model is not None else utils.logistic_regression()
    model.fit(np.transpose(mus_train), y_train)
    binarizer = preprocessing.MultiLabelBinarizer()
    roc_train = metrics.roc_auc_score(binarizer.fit_transform(np.expand_dims(y_train, 1)),
                                      model.predict_proba(np.transpose(mus_train)))
    roc_test = metrics.roc_auc_score(binarizer.fit_transform(np.expand_dims(y_test, 1)),
                                     model.predict_proba(np.transpose(mus_test)))
    return roc_train, roc_test


def modularity(mutual_information):
    """Mean over codes of 1 - (sum of squared MI off the best factor) / (max squared MI * (K - 1))."""
    squared_mi = np.square(mutual_information)
    max_squared_mi = np.max(squared_mi, axis=1)
    numerator = np.sum(squared_mi, axis=1) - max_squared_mi
    denominator = max_squared_mi * (squared_mi.shape[1] - 1.)
    with np.errstate(divide="ignore", invalid="ignore"):
        modularity_score = 1. - numerator / denominator
    modularity_score[max_squared_mi == 0.] = 0.
    return np.mean(modularity_score)
