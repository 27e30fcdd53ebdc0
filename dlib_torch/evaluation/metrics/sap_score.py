"""Separated Attribute Predictability (SAP) score.

Based on "Variational Inference of Disentangled Latent Concepts from Unlabeled Observations"
(https://openreview.net/forum?id=H1kG7GZAW), Section 3. A score matrix [num_codes, num_factors] says how well
each single code predicts each factor; SAP is the mean over factors of the gap between its two best codes.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import parallel
from dlib_torch.evaluation.metrics import utils


@gin.configurable("sap_score",
                  denylist=utils.METRIC_ARGUMENTS)
def compute_sap(ground_truth_data, representation_function, random_state, artifact_dir=None,
                num_train=gin.REQUIRED, num_test=gin.REQUIRED, batch_size=16, continuous_factors=gin.REQUIRED):
    """Computes the SAP score.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_train: points the score matrix is fitted on.
      num_test: points the (discrete) classifiers are scored on.
      batch_size: batch size of the sampling.
      continuous_factors: True scores with squared correlations, False with linear SVM test accuracies.

    Returns:
      Dict with `SAP_score`.
    """
    del artifact_dir
    mus, ys = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_train,
                                               random_state, batch_size)
    mus_test, ys_test = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_test,
                                                         random_state, batch_size)
    return sap_score_from_codes(mus.T, ys.T, mus_test.T, ys_test.T, continuous_factors, random_state)


def sap_score_from_codes(codes_train, factors_train, codes_test, factors_test, continuous_factors,
                         random_state=0, sklearn_version=None):
    """The SAP score of codes [N, D] and factors [N, K] (train and test sets)."""
    seed = utils.derived_seeds(utils.as_random_state(random_state), 1)[0]
    score_matrix = compute_score_matrix(np.transpose(codes_train), np.transpose(factors_train),
                                        np.transpose(codes_test), np.transpose(factors_test),
                                        continuous_factors, seed=seed, sklearn_version=sklearn_version)
    return {"SAP_score": float(compute_avg_diff_top_two(score_matrix))}


@gin.configurable("sap_score_validation", denylist=["observations", "labels", "representation_function"])
def compute_sap_on_fixed_data(observations, labels, representation_function, train_percentage=gin.REQUIRED,
                              continuous_factors=gin.REQUIRED, batch_size=100):
    """SAP on fixed observations and their factors `labels` [num_factors, num_observations], split in order."""
    mus = utils.obtain_representation(observations, representation_function, batch_size)
    mus_train, mus_test = utils.split_train_test(mus, train_percentage)
    ys_train, ys_test = utils.split_train_test(labels, train_percentage)
    return sap_score_from_codes(mus_train.T, ys_train.T, mus_test.T, ys_test.T, continuous_factors)


def compute_score_matrix(mus, ys, mus_test, ys_test, continuous_factors, seed=0, sklearn_version=None):
    """Score matrix [num_codes, num_factors] (layout [dims, points]).

    Continuous: squared correlation of code i and factor j (0 for a constant code). Discrete: test accuracy
    of `LinearSVC(C=0.01, class_weight="balanced")` predicting factor j from code i alone, fits in parallel.
    """
    num_codes, num_factors = mus.shape[0], ys.shape[0]
    if continuous_factors:
        score_matrix = np.zeros([num_codes, num_factors])
        for i in range(num_codes):
            for j in range(num_factors):
                covariance = np.cov(mus[i, :], ys[j, :], ddof=1)
                if covariance[0, 0] > 1e-12:
                    score_matrix[i, j] = covariance[0, 1]**2 / (covariance[0, 0] * covariance[1, 1])
        return score_matrix
    tasks = [(utils.linear_svc(C=0.01, class_weight="balanced", random_state=int(seed), version=sklearn_version),
              mus[i, :, np.newaxis], ys[j, :], mus_test[i, :, np.newaxis], ys_test[j, :])
             for i in range(num_codes) for j in range(num_factors)]
    accuracies = parallel.map_in_parallel(_test_accuracy, tasks)
    return np.array(accuracies).reshape(num_codes, num_factors)


def _test_accuracy(model, x_train, y_train, x_test, y_test):
    model.fit(x_train, y_train)
    return float(np.mean(model.predict(x_test) == y_test))


def compute_avg_diff_top_two(matrix):
    """Mean over columns of the gap between the largest and second largest entry."""
    sorted_matrix = np.sort(matrix, axis=0)
    return np.mean(sorted_matrix[-1, :] - sorted_matrix[-2, :])
