"""scikit-learn's `GradientBoostingClassifier()` with its default parameters: the same model, bit for bit.

The boosting follows sklearn/ensemble/_gb.py (scikit-learn 1.9): the class prior as the initial raw scores
(log-odds, or log p minus its mean over classes); per stage the log loss's negative gradient (its Cython
arithmetic), one regression tree per class (one for two classes) grown on it by sklearn_trees.py, compiled, with
the seed scikit-learn's splitter draws from `random_state`; leaf values by one Newton step (times (K-1)/K for
K > 2 classes, its means summed as numpy sums) and the raw scores moved by the learning rate; importances
averaged over the trees that split. So the same `random_state` grows the same trees as scikit-learn's, ties
between equally good splits included (tests/evaluation/metrics/test_boosted_trees.py compares them on tied,
duplicated and constant features). The reference calls it unseeded; the metrics here seed it from their own
random_state (utils.gradient_boosting_classifier). The port follows scikit-learn 1.9; under another release
(1.8 and earlier grew these trees with the friedman_mse criterion, rounded otherwise) `ports_installed_sklearn()`
is False and the metrics use scikit-learn's own class.
"""
import math

import numba
import numpy as np
from scipy import special
from scipy import stats
import sklearn
from sklearn import base
from sklearn.utils import check_random_state
from sklearn.utils import check_X_y
from sklearn.utils import validation
from sklearn.utils.multiclass import check_classification_targets

from dlib_torch.evaluation.metrics import sklearn_trees

EPSILON = np.finfo(np.float64).eps  # the prior is clipped to [eps, 1 - eps]
PORTED_SKLEARN = (1, 9)  # the scikit-learn release whose trees these are, bit for bit


def ports_installed_sklearn():
    """Whether the installed scikit-learn is the release this module ports (same major and minor version)."""
    return tuple(int(part) for part in sklearn.__version__.split(".")[:2]) == PORTED_SKLEARN


class GradientBoostingClassifier(base.ClassifierMixin, base.BaseEstimator):
    """Drop-in for `sklearn.ensemble.GradientBoostingClassifier()` with its default parameters.

    fit / predict / decision_function / score, `classes_`, `feature_importances_`, `n_estimators_`, and the
    trees as scikit-learn's node arrays (`trees_`: one sklearn_trees.Tree per stage and class, stage-major).
    """

    def __init__(self, n_estimators=100, learning_rate=0.1, max_depth=3, random_state=None):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.random_state = random_state

    def fit(self, x, y):
        x, y = check_X_y(x, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        num_classes = len(self.classes_)
        if num_classes < 2:
            raise ValueError("y contains {} class, while a minimum of 2 classes are required.".format(num_classes))
        self.n_features_in_ = x.shape[1]
        self.trees_per_stage_ = 1 if num_classes == 2 else num_classes
        self.prior_ = np.bincount(encoded) / len(encoded)
        targets = encoded.astype(np.float64)
        raw = self._initial_raw_scores(len(x))
        random_state = check_random_state(self.random_state)
        workspace = sklearn_trees.Workspace(x, encoded, self.max_depth)
        negative_gradient = np.empty_like(raw)
        self.trees_ = []
        for _ in range(self.n_estimators):
            _negative_gradient(targets, raw, negative_gradient)
            for k in range(self.trees_per_stage_):
                gradient = np.ascontiguousarray(negative_gradient[:, k])
                tree = sklearn_trees.grow(gradient, random_state.randint(0, sklearn_trees.RAND_R_MAX),
                                          self.max_depth, workspace, sklearn_trees.Tree(self.max_depth))
                leaves = sklearn_trees.apply(x, tree.children_left, tree.children_right, tree.feature,
                                             tree.threshold)
                class_targets = targets if self.trees_per_stage_ == 1 else (encoded == k).astype(np.float64)
                _set_leaf_values(leaves, class_targets, gradient, tree.children_left, num_classes, tree.node_count,
                                 tree.value)
                raw[:, k] += self.learning_rate * tree.value.take(leaves, axis=0)
                self.trees_.append(tree)
        self.n_estimators_ = self.n_estimators
        return self

    def _initial_raw_scores(self, num_samples):
        """The prior's raw scores [num_samples, trees per stage], as scikit-learn's init estimator gives them."""
        probabilities = np.clip(np.ones((num_samples, 1)) * self.prior_, EPSILON, 1 - EPSILON, dtype=np.float64)
        if self.trees_per_stage_ == 1:
            return special.logit(probabilities[:, 1]).reshape(-1, 1)
        return np.log(probabilities / stats.gmean(probabilities, axis=1)[:, None])

    @property
    def feature_importances_(self):
        """Impurity-decrease importances, averaged over the trees that split at all, summing to 1."""
        validation.check_is_fitted(self, "trees_")
        splitting = [tree for tree in self.trees_ if tree.node_count > 1]
        if not splitting:
            return np.zeros(self.n_features_in_)
        importances = np.zeros((len(splitting), self.n_features_in_))
        for row, tree in zip(importances, splitting):
            sklearn_trees.unnormalised_importances(tree.children_left, tree.children_right, tree.feature,
                                                   tree.impurity, tree.weighted_n_node_samples, tree.node_count,
                                                   row)
        average = np.mean(importances, axis=0, dtype=np.float64)
        return average / np.sum(average)

    def decision_function(self, x):
        """Raw scores [num_samples, num_classes] (or [num_samples] for two classes), as scikit-learn's."""
        validation.check_is_fitted(self, "trees_")
        x = validation.check_array(x, dtype=np.float32, order="C")
        raw = self._initial_raw_scores(len(x))
        for stage in range(self.n_estimators_):
            for k in range(self.trees_per_stage_):
                tree = self.trees_[stage * self.trees_per_stage_ + k]
                _add_tree(x, tree.children_left, tree.children_right, tree.feature, tree.threshold, tree.value,
                          float(self.learning_rate), k, raw)
        return raw[:, 0] if self.trees_per_stage_ == 1 else raw

    def predict(self, x):
        raw = self.decision_function(x)
        encoded = (raw >= 0).astype(int) if raw.ndim == 1 else np.argmax(raw, axis=1)
        return self.classes_[encoded]


@numba.njit(cache=True, nogil=True)
def _set_leaf_values(leaves, targets, negative_gradient, children_left, num_classes, node_count, value):
    """One Newton step per leaf, scikit-learn's `_update_terminal_regions` arithmetic: with p = y - gradient,
    mean gradient / mean p(1-p) (0 where that is below 1e-150), times (K-1)/K for K > 2 classes; each mean is
    numpy's (a pairwise sum over the leaf's samples in index order, over their count)."""
    num_samples = leaves.shape[0]
    starts = np.zeros(node_count + 1, dtype=np.int64)
    for i in range(num_samples):
        starts[leaves[i] + 1] += 1
    for node in range(node_count):
        starts[node + 1] += starts[node]
    filled = starts[:-1].copy()
    gradients, curvatures = np.empty(num_samples), np.empty(num_samples)
    for i in range(num_samples):
        position = filled[leaves[i]]
        filled[leaves[i]] += 1
        gradients[position] = negative_gradient[i]
        probability = targets[i] - negative_gradient[i]
        curvatures[position] = probability * (1 - probability)
    for node in range(node_count):
        if children_left[node] != sklearn_trees.LEAF:
            continue
        start, count = starts[node], starts[node + 1] - starts[node]
        numerator = _pairwise_sum(gradients, start, count) / count
        if num_classes > 2:
            numerator *= (num_classes - 1) / num_classes
        denominator = _pairwise_sum(curvatures, start, count) / count
        value[node] = 0.0 if abs(denominator) < 1e-150 else numerator / denominator


@numba.njit(cache=True, nogil=True)
def _pairwise_sum(values, start, count):
    """numpy's sum of values[start:start + count] (its pairwise summation: 8 accumulators over blocks of up to
    128, halves above), so that a mean here is numpy's to the last bit."""
    if count < 8:
        total = 0.0
        for i in range(start, start + count):
            total += values[i]
        return total
    if count <= 128:
        accumulators = values[start:start + 8].copy()
        i = 8
        while i < count - count % 8:
            for j in range(8):
                accumulators[j] += values[start + i + j]
            i += 8
        total = ((accumulators[0] + accumulators[1]) + (accumulators[2] + accumulators[3])) + (
            (accumulators[4] + accumulators[5]) + (accumulators[6] + accumulators[7]))
        for j in range(start + i, start + count):
            total += values[j]
        return total
    half = count // 2
    half -= half % 8
    return _pairwise_sum(values, start, half) + _pairwise_sum(values, start + half, count - half)


@numba.njit(cache=True, nogil=True)
def _negative_gradient(targets, raw, out):
    """Minus the log loss's gradient at `raw` [N, trees per stage], in scikit-learn's Cython arithmetic
    (HalfBinomialLoss for one column, HalfMultinomialLoss for several)."""
    num_samples, num_columns = raw.shape
    if num_columns == 1:
        for i in range(num_samples):
            score, target = raw[i, 0], targets[i]
            if score > -37:
                exp_tmp = math.exp(-score)
                out[i, 0] = -(((1 - target) - target * exp_tmp) / (1 + exp_tmp))
            else:
                out[i, 0] = -(math.exp(score) - target)
        return
    probabilities = np.empty(num_columns)
    for i in range(num_samples):
        largest = raw[i, 0]
        for k in range(1, num_columns):
            if largest < raw[i, k]:
                largest = raw[i, k]
        total = 0.0
        for k in range(num_columns):
            probabilities[k] = math.exp(raw[i, k] - largest)
            total += probabilities[k]
        for k in range(num_columns):
            probability = probabilities[k] / total
            out[i, k] = -(probability - (1.0 if targets[i] == k else 0.0))


@numba.njit(cache=True, nogil=True)
def _add_tree(x, children_left, children_right, feature, threshold, value, learning_rate, column, raw):
    """raw[:, column] += learning_rate * the leaf value each row of `x` reaches (scikit-learn's predict_stages)."""
    for i in range(x.shape[0]):
        node = 0
        while children_left[node] != sklearn_trees.LEAF:
            if np.float64(x[i, feature[node]]) <= threshold[node]:
                node = children_left[node]
            else:
                node = children_right[node]
        raw[i, column] += learning_rate * value[node]
