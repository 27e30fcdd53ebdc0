"""Unified disentanglement scores (disentanglement_lib's evaluation/metrics/unified_scores.py).

DCI, MIG, SAP and Modularity each first relate codes to factors with a matrix [num_codes, num_factors] (GBT
importances, mutual information, single-code SVM accuracies), then aggregate it. Here every chosen matrix
(`matrix_fns`) is aggregated in every way, giving `<matrix_fn>.<aggregation>` keys (plus per-factor and per-code
values, and the area and maximum of the matrix's precision curve). With an artifact directory, each matrix's
dendrogram merge thresholds become `<matrix_fn>.merge_<i>_<j>` keys (metrics/dendrogram.py; none for a single
factor, where the reference raises), and the matrix is handed to the evaluation stage (metrics/artifacts.py),
which draws `<matrix_fn>.png` (heat squares), `<matrix_fn>_pr.png` (factors discovered and independent across
thresholds) and `<matrix_fn>_dendrogram.png` into that directory. Unlike the reference, any data set works:
factors without names are called factor_0, factor_1, ...
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import artifacts
from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import dendrogram
from dlib_torch.evaluation.metrics import factor_code_graph
from dlib_torch.evaluation.metrics import modularity_explicitness
from dlib_torch.evaluation.metrics import sap_score
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import gin_utils


@gin.configurable("unified_scores",
                  denylist=utils.METRIC_ARGUMENTS)
def compute_unified_scores(ground_truth_data, representation_function, random_state, artifact_dir=None,
                           num_train=gin.REQUIRED, num_test=gin.REQUIRED, matrix_fns=gin.REQUIRED, batch_size=16):
    """Computes the unified disentanglement scores.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_train: points the matrices are computed on.
      num_test: points the accuracy matrices are tested on.
      matrix_fns: e.g. [@importance_gbt_matrix, @mutual_information_matrix, @accuracy_svm_matrix].
      batch_size: batch size of the sampling.

    Returns:
      Dict of `<matrix_fn>.<key>` scores.
    """
    mus_train, ys_train = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_train,
                                                           random_state, batch_size)
    mus_test, ys_test = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_test,
                                                         random_state, batch_size)
    return unified_scores(mus_train, ys_train, mus_test, ys_test, matrix_fns, artifact_dir,
                          factor_names_of(ground_truth_data))


@gin.configurable("unified_score_validation", denylist=["observations", "labels", "representation_function"])
def compute_unified_score_on_fixed_data(observations, labels, representation_function,
                                        train_percentage=gin.REQUIRED, matrix_fns=gin.REQUIRED, batch_size=100):
    """Unified scores on fixed observations and their factors `labels` [num_factors, num_observations]."""
    mus = utils.obtain_representation(observations, representation_function, batch_size)
    if labels.shape[1] != mus.shape[1]:
        raise ValueError("labels must be [num_factors, num_observations]; got {} for {} observations".format(
            labels.shape, mus.shape[1]))
    mus_train, mus_test = utils.split_train_test(mus, train_percentage)
    ys_train, ys_test = utils.split_train_test(labels, train_percentage)
    return unified_scores(mus_train, ys_train, mus_test, ys_test, matrix_fns)


def unified_scores_from_codes(codes_train, factors_train, codes_test, factors_test, matrix_fns=None,
                              artifact_dir=None, factor_names=None):
    """Unified scores of codes [N, D] with discrete factors [N, K] (default: all three matrices)."""
    matrix_fns = matrix_fns or [importance_gbt_matrix, mutual_information_matrix, accuracy_svm_matrix]
    return unified_scores(np.transpose(codes_train), np.transpose(factors_train), np.transpose(codes_test),
                          np.transpose(factors_test), matrix_fns, artifact_dir, factor_names)


def unified_scores(mus_train, ys_train, mus_test, ys_test, matrix_fns, artifact_dir=None, factor_names=None):
    """Every aggregation of every matrix (layout [dims, points]); merge keys, and each matrix handed over for
    its pictures, when `artifact_dir` is given."""
    scores = {}
    for matrix_fn in matrix_fns:
        matrix = np.asarray(matrix_fn(mus_train, ys_train, mus_test, ys_test), dtype=np.float64)
        name = matrix_fn.__name__
        matrix_scores = {}
        if artifact_dir is not None:
            artifacts.hand_over(artifacts.FactorCodeMatrix(artifact_dir, name, matrix.copy(), factor_names))
            matrix_scores.update(dendrogram.merge_keys(matrix.T))
        matrix_scores.update(pr_curves_values(matrix))
        for aggregation_fn in AGGREGATION_FN:
            matrix_scores.update(aggregation_fn(matrix, ys_train))
        scores.update({"{}.{}".format(name, key): value for key, value in matrix_scores.items()})
    return utils.as_python(scores)


def factor_names_of(ground_truth_data):
    """The data set's factor names, or factor_0, factor_1, ... for data sets without them."""
    names = getattr(ground_truth_data, "factor_names", None)
    if names is None or len(names) != ground_truth_data.num_factors:
        return ["factor_{}".format(i) for i in range(ground_truth_data.num_factors)]
    return list(names)


def pr_curves_values(matrix):
    """Area under the precision curve over the decreasing thresholds, and its maximum."""
    thresholds = np.sort(matrix.flatten())[::-1]
    precisions = np.array([factor_code_graph.precision(matrix, x) for x in thresholds], dtype=np.float64)
    area = np.sum((precisions[:-1] + precisions[1:]) * (thresholds[:-1] - thresholds[1:]) * 0.5)
    return {"area_precision": float(area), "max_precision": int(np.max(precisions))}


@gin.configurable("importance_gbt_matrix", denylist=["mus_train", "ys_train", "mus_test", "ys_test"])
def importance_gbt_matrix(mus_train, ys_train, mus_test, ys_test):
    """DCI's importance matrix: each code's importance in a boosted-tree classifier of each factor."""
    return dci.compute_importance_gbt(mus_train, ys_train, mus_test, ys_test)[0]


@gin.configurable("mutual_information_matrix", denylist=["mus_train", "ys_train", "mus_test", "ys_test"])
def mutual_information_matrix(mus_train, ys_train, mus_test, ys_test):
    """MIG's and Modularity's matrix: mutual information of each discretized code with each factor.

    Codes are discretized by gin's `discretizer`, or, when it is not configured (plain-array use), into the
    study's 20-bin histograms.
    """
    del mus_test, ys_test
    configured = gin_utils.query_parameter_or("discretizer.discretizer_fn") is not None
    discretizer = utils.make_discretizer if configured else utils.default_discretizer
    return utils.discrete_mutual_info(discretizer(mus_train), ys_train)


@gin.configurable("accuracy_svm_matrix", denylist=["mus_train", "ys_train", "mus_test", "ys_test"])
def accuracy_svm_matrix(mus_train, ys_train, mus_test, ys_test):
    """SAP's matrix: test accuracy of a linear SVM predicting each factor from each code alone."""
    return sap_score.compute_score_matrix(mus_train, ys_train, mus_test, ys_test, continuous_factors=False)


def aggregation_dci(matrix, ys):
    """DCI disentanglement and completeness, overall and per code / per factor."""
    del ys
    score = {"dci_disentanglement": dci.disentanglement(matrix), "dci_completeness": dci.completeness(matrix),
             "dci": dci.disentanglement(matrix)}
    for i, value in enumerate(dci.disentanglement_per_code(matrix)):
        score["dci_disentanglement.code_{}".format(i)] = value
    # The reference names the per-factor completeness values `code_<i>` too; kept for parity.
    for i, value in enumerate(dci.completeness_per_factor(matrix)):
        score["dci_completeness.code_{}".format(i)] = value
    return score


def aggregation_mig(m, ys_train):
    """MIG, overall and per factor (gap between the two largest entries of a column over its entropy)."""
    entropy = utils.discrete_entropy(ys_train)
    sorted_m = np.sort(m, axis=0)[::-1]
    mig_per_factor = (sorted_m[0, :] - sorted_m[1, :]) / entropy
    score = {"mig": np.mean(mig_per_factor)}
    for i, value in enumerate(mig_per_factor):
        score["mig.factor_{}".format(i)] = value
    return score


def aggregation_sap(matrix, ys):
    """SAP, overall and per factor."""
    del ys
    return _overall_and_each("sap", sap_score.compute_avg_diff_top_two(matrix), "factor",
                             sap_compute_diff_top_two(matrix))


def _overall_and_each(name, overall, item, values):
    """{name: overall, name.<item>_<i>: value} of a score and its per-factor (or per-code) values."""
    score = {name: overall}
    for i, value in enumerate(values):
        score["{}.{}_{}".format(name, item, i)] = value
    return score


def sap_compute_diff_top_two(matrix):
    """Per column, the largest entry minus the second largest."""
    sorted_matrix = np.sort(matrix, axis=0)
    return sorted_matrix[-1, :] - sorted_matrix[-2, :]


def aggregation_modularity(matrix, ys):
    """Modularity, overall and per code."""
    del ys
    return _overall_and_each("modularity", modularity_explicitness.modularity(matrix), "code",
                             compute_modularity_per_code(matrix))


def compute_modularity_per_code(mutual_information):
    """Per code: 1 - (sum of squared entries off the largest) / (largest squared * (K - 1)); 0 if all zero."""
    squared_mi = np.square(mutual_information)
    max_squared_mi = np.max(squared_mi, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        modularity_score = 1. - (np.sum(squared_mi, axis=1) - max_squared_mi) / (
            max_squared_mi * (squared_mi.shape[1] - 1.))
    modularity_score[max_squared_mi == 0.] = 0.
    return modularity_score


AGGREGATION_FN = [aggregation_dci, aggregation_mig, aggregation_sap, aggregation_modularity]
