"""scikit-learn's default gradient-boosted trees, grown a whole stage at a time.

scikit-learn's `GradientBoostingClassifier` fits, at each of its 100 stages, one depth-3 regression tree per
class on the negative gradient, sorting every feature again at every node of every tree. The trees of a stage
see the same codes, so here each feature is sorted once per fit and a stage's trees grow together, level by
level: per-node prefix sums over the sorted codes give every candidate split's squared-error gain at once.

The algorithm is scikit-learn's (1.x, the one the reference gets): float32 features, splits only between
values more than 1e-7 apart, thresholds at the midpoint, a node splits when it has 2 samples and impurity above
machine epsilon, leaf values by one Newton step (times (K-1)/K for K > 2 classes), the prior as the initial
prediction, impurity-decrease importances averaged over the trees that split. So the trees are scikit-learn's
up to floating-point rounding and the tie-breaking between equally good splits, which scikit-learn leaves to a
random feature order: here a random order drawn from `random_state` (the reference leaves it unseeded).
"""
import numpy as np
from scipy import special
from sklearn import base
from sklearn.utils import check_random_state

FEATURE_THRESHOLD = 1e-7  # scikit-learn's: values closer than this are not split apart
EPSILON = np.finfo(np.float64).eps  # nodes with impurity at most this are leaves
MAX_ELEMENTS = 1 << 22  # trees x features x samples grown at once (about 32 MB per float64 array)


class GradientBoostingClassifier(base.ClassifierMixin, base.BaseEstimator):
    """Drop-in for `sklearn.ensemble.GradientBoostingClassifier()` with its default parameters.

    fit / predict / decision_function / score, `classes_`, `feature_importances_`, `n_estimators_`.
    """

    def __init__(self, n_estimators=100, learning_rate=0.1, max_depth=3, random_state=None):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.random_state = random_state

    def fit(self, x, y):
        x, encoded, targets, raw, rng = self._start_fit(x, y)
        num_samples, num_features = x.shape
        num_classes, trees_per_stage = len(self.classes_), raw.shape[1]

        order = np.argsort(x, axis=0, kind="stable").T  # [features, samples]
        sorted_x = np.take_along_axis(x, order.T, axis=0).T.astype(np.float64)
        chunk = max(1, MAX_ELEMENTS // (num_features * num_samples))
        self.tree_features_, self.tree_thresholds_, self.tree_values_, importances = [], [], [], []
        for _ in range(self.n_estimators):
            probabilities = _probabilities(raw)
            gradients = targets - probabilities  # scikit-learn's negative gradient
            for first in range(0, trees_per_stage, chunk):
                classes = slice(first, min(first + chunk, trees_per_stage))
                grown = _grow_trees(x, order, sorted_x, np.ascontiguousarray(gradients[:, classes].T),
                                    self.max_depth, rng)
                features, thresholds, leaves, tree_importances = grown
                values = _leaf_values(leaves, gradients[:, classes].T, probabilities[:, classes].T, num_classes,
                                      2 ** self.max_depth)
                raw[:, classes] += self.learning_rate * np.take_along_axis(values, leaves, axis=1).T
                self.tree_features_.append(features)
                self.tree_thresholds_.append(thresholds)
                self.tree_values_.append(values)
                importances.append(tree_importances)
        self.tree_features_ = np.concatenate(self.tree_features_)
        self.tree_thresholds_ = np.concatenate(self.tree_thresholds_)
        self.tree_values_ = np.concatenate(self.tree_values_)
        self._importances = np.concatenate(importances)
        self.n_estimators_ = self.n_estimators
        self.trees_per_stage_ = trees_per_stage
        return self

    def _start_fit(self, x, y):
        """Checks the inputs and sets classes_, n_features_in_ and init_ (the prior); returns float32 x [N, D],
        the class indices [N], the one-vs-rest targets [N, trees per stage], the initial raw scores and the rng."""
        x = np.ascontiguousarray(x, dtype=np.float32)  # scikit-learn's trees see float32 features
        y = np.asarray(y)
        if x.ndim != 2 or len(x) != len(y):
            raise ValueError("x must be [num_samples, num_features] and y [num_samples]; got {} and {}".format(
                x.shape, y.shape))
        self.classes_, encoded = np.unique(y, return_inverse=True)
        num_classes = len(self.classes_)
        if num_classes < 2:
            raise ValueError("y contains {} class, while a minimum of 2 classes are required.".format(num_classes))
        self.n_features_in_ = x.shape[1]
        trees_per_stage = num_classes if num_classes > 2 else 1
        if trees_per_stage == 1:
            targets = encoded[:, None].astype(np.float64)
        else:
            targets = (encoded[:, None] == np.arange(num_classes)).astype(np.float64)
        prior = np.clip(np.bincount(encoded, minlength=num_classes) / len(x), EPSILON, 1 - EPSILON)
        if trees_per_stage == 1:
            self.init_ = np.log(prior[1:] / (1 - prior[1:]))
        else:
            self.init_ = np.log(prior) - np.mean(np.log(prior))
        return x, encoded, targets, np.tile(self.init_, (len(x), 1)), check_random_state(self.random_state)

    @property
    def feature_importances_(self):
        """Impurity-decrease importances, averaged over the trees that split at all, summing to 1."""
        splitting = self._importances[np.isfinite(self.tree_thresholds_[:, 0])]
        if not len(splitting):
            return np.zeros(self.n_features_in_)
        average = np.mean(splitting, axis=0)
        return average / np.sum(average)

    def decision_function(self, x):
        """Raw scores [num_samples, num_classes] (or [num_samples] for two classes), as scikit-learn's."""
        x = np.ascontiguousarray(x, dtype=np.float32).astype(np.float64)
        raw = np.tile(self.init_, (len(x), 1))
        num_trees = len(self.tree_features_)
        chunk = max(1, MAX_ELEMENTS // max(1, len(x)))
        for first in range(0, num_trees, chunk):
            trees = slice(first, min(first + chunk, num_trees))
            leaves = _apply(x, self.tree_features_[trees], self.tree_thresholds_[trees], self.max_depth)
            contributions = np.take_along_axis(self.tree_values_[trees], leaves, axis=1)  # [trees, samples]
            tree_class = np.arange(first, trees.stop) % self.trees_per_stage_
            for k in range(self.trees_per_stage_):
                raw[:, k] += self.learning_rate * contributions[tree_class == k].sum(axis=0)
        return raw[:, 0] if self.trees_per_stage_ == 1 else raw

    def predict(self, x):
        raw = self.decision_function(x)
        encoded = (raw >= 0).astype(int) if raw.ndim == 1 else np.argmax(raw, axis=1)
        return self.classes_[encoded]


def _probabilities(raw):
    """Class probabilities from raw scores: the logistic for one column, the softmax for several."""
    if raw.shape[1] == 1:
        return special.expit(raw)
    exp = np.exp(raw - raw.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _node_statistics(gradients, nodes, num_nodes):
    """Per tree and node: sample count, gradient sum and impurity (the gradient's variance) [trees, nodes]."""
    num_trees = len(gradients)
    flat = (nodes + num_nodes * np.arange(num_trees)[:, None]).ravel()
    size = num_trees * num_nodes
    counts = np.bincount(flat, minlength=size).reshape(num_trees, num_nodes)
    sums = np.bincount(flat, gradients.ravel(), size).reshape(num_trees, num_nodes)
    squares = np.bincount(flat, (gradients * gradients).ravel(), size).reshape(num_trees, num_nodes)
    with np.errstate(invalid="ignore", divide="ignore"):
        impurity = np.where(counts > 0, squares / counts - (sums / counts) ** 2, 0.)
    return counts, sums, impurity


def _grow_trees(x, order, sorted_x, gradients, max_depth, rng):
    """Grows one regression tree per row of `gradients` [trees, samples] on `x`, all at once.

    Trees are complete binary trees in heap layout (node m of depth d at 2**d - 1 + m); a node that does not
    split gets threshold +inf, so that every sample goes left to the same leaf. Returns the split features and
    thresholds [trees, 2**max_depth - 1], each sample's leaf [trees, samples] and the trees' unnormalised
    importances [trees, features].
    """
    num_trees, num_samples = gradients.shape
    num_features = x.shape[1]
    trees = np.arange(num_trees)[:, None]
    index = np.arange(num_samples)
    rows = (np.arange(num_trees * num_features) * num_samples).reshape(num_trees, num_features, 1)
    # Per tree and feature: the samples (flat indices into gradients) grouped by node, each node's sorted by
    # the feature, and their feature values. The groups lie in node order, so they are the same for every
    # feature: node m of tree k holds positions starts[k, m] to starts[k, m] + counts[k, m] - 1.
    positions = (order[None] + (np.arange(num_trees) * num_samples)[:, None, None]).astype(np.intp)
    values = np.broadcast_to(sorted_x, (num_trees, num_features, num_samples))
    features = np.zeros((num_trees, 2 ** max_depth - 1), dtype=np.intp)
    thresholds = np.full((num_trees, 2 ** max_depth - 1), np.inf)
    importances = np.zeros((num_trees, num_features))
    nodes = np.zeros((num_trees, num_samples), dtype=np.intp)
    counts, sums, impurity = _node_statistics(gradients, nodes, 1)
    depth = 0
    while depth < max_depth:
        num_nodes = 2 ** depth
        splittable = (counts >= 2) & (impurity > EPSILON)
        if not splittable.any():
            break
        starts = np.cumsum(counts, axis=1) - counts
        node_at = np.take(nodes.ravel(), positions[:, 0, :])  # [trees, samples]
        # Gradient sums left of each candidate split (up to and including the position), within its node: one
        # running sum per row, reset at each node's first position by subtracting the nodes before it.
        left_sum = np.take(gradients.ravel(), positions)
        sums_before = np.cumsum(sums, axis=1) - sums
        subtracted = np.zeros(num_trees)
        for node in range(1, num_nodes):
            k = np.nonzero(counts[:, node] > 0)[0]
            left_sum[k, :, starts[k, node]] -= (sums_before[k, node] - subtracted[k])[:, None]
            subtracted[k] = sums_before[k, node]
        np.cumsum(left_sum, axis=2, out=left_sum)
        left_count = index - np.take_along_axis(starts, node_at, axis=1) + 1
        right_count = np.take_along_axis(counts, node_at, axis=1) - left_count
        # scikit-learn's proxy gain: left_sum**2 / left_count + right_sum**2 / right_count, in its arithmetic.
        right_sum = np.take_along_axis(sums, node_at, axis=1)[:, None, :] - left_sum
        gain = left_sum * left_sum
        gain /= left_count[:, None, :]
        right_sum *= right_sum
        right_sum /= np.maximum(right_count, 1)[:, None, :]
        gain += right_sum
        del right_sum
        # Candidates: between a position and the next one of the same node, whose value is more than 1e-7
        # larger (scikit-learn's rule). The last position of a node is not one.
        invalid = np.ones((num_trees, num_features, num_samples), dtype=bool)
        np.less_equal(values[:, :, 1:], values[:, :, :-1] + FEATURE_THRESHOLD, out=invalid[:, :, :-1])
        ends = starts + counts - 1
        has = (counts > 0)
        invalid[np.nonzero(has)[0], :, ends[has]] = True
        np.putmask(gain, invalid, -np.inf)
        # Best gain per tree, feature and node, then per node the feature (ties: a random feature order).
        flat_starts = (rows + np.minimum(starts, num_samples - 1)[:, None, :]).ravel()
        best = np.maximum.reduceat(gain.ravel(), flat_starts).reshape(num_trees, num_features, num_nodes)
        best[~np.broadcast_to(splittable[:, None, :], best.shape)] = -np.inf
        node_best = best.max(axis=1)  # [trees, nodes]
        tie_order = rng.random_sample(best.shape)
        feature = np.argmax(np.where(best == node_best[:, None, :], tie_order, -1.), axis=1)  # [trees, nodes]
        splits = splittable & np.isfinite(node_best)
        # The first position of the best gain within the node's group of the chosen feature.
        chosen = np.take(gain.ravel(), (rows[:, :, 0][trees, np.take_along_axis(feature, node_at, axis=1)]
                                        + index))
        is_best = (chosen == np.take_along_axis(node_best, node_at, axis=1)) & np.take_along_axis(
            splits, node_at, axis=1)
        del gain
        first = np.full(num_trees * num_nodes, num_samples - 2)
        best_trees, best_positions = np.nonzero(is_best)
        best_nodes = node_at[best_trees, best_positions] + num_nodes * best_trees
        np.minimum.at(first, best_nodes[::-1], best_positions[::-1])
        first = first.reshape(num_trees, num_nodes)
        low = values[trees, feature, first]
        high = values[trees, feature, first + 1]
        threshold = low / 2.0 + high / 2.0
        threshold = np.where((threshold == high) | np.isinf(threshold), low, threshold)
        threshold = np.where(splits, threshold, np.inf)
        heap = 2 ** depth - 1 + np.arange(num_nodes)
        features[:, heap] = np.where(splits, feature, 0)
        thresholds[:, heap] = threshold
        # Partition: each sample goes to child 2m (left) or 2m + 1 (right) of its node m.
        sample_feature = np.take_along_axis(features[:, heap], nodes, axis=1)
        goes_right = x[index, sample_feature] > np.take_along_axis(threshold, nodes, axis=1)
        nodes = 2 * nodes + goes_right
        parent_counts, parent_impurity = counts, impurity
        counts, sums, impurity = _node_statistics(gradients, nodes, 2 * num_nodes)
        decrease = (parent_counts * parent_impurity - counts[:, 0::2] * impurity[:, 0::2]
                    - counts[:, 1::2] * impurity[:, 1::2]) / num_samples
        np.add.at(importances, (np.broadcast_to(trees, splits.shape)[splits], feature[splits]), decrease[splits])
        depth += 1
        if depth < max_depth:
            keys = np.take(nodes.ravel(), positions).astype(np.int8)
            regroup = np.argsort(keys, axis=2, kind="stable")  # stable: keeps each node sorted by feature
            regroup += rows
            positions = np.take(positions, regroup)
            values = np.take(values, regroup)
    leaves = nodes << (max_depth - depth)
    return features, thresholds, leaves, importances


def _leaf_values(leaves, gradients, probabilities, num_classes, num_leaves):
    """One Newton step per leaf, as scikit-learn: mean gradient / mean p(1-p), times (K-1)/K for K > 2."""
    num_trees = len(leaves)
    flat = (leaves + num_leaves * np.arange(num_trees)[:, None]).ravel()
    counts = np.maximum(np.bincount(flat, minlength=num_trees * num_leaves), 1)
    numerator = np.bincount(flat, gradients.ravel(), num_trees * num_leaves) / counts
    denominator = np.bincount(flat, (probabilities * (1 - probabilities)).ravel(), num_trees * num_leaves) / counts
    if num_classes > 2:
        numerator *= (num_classes - 1) / num_classes
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(np.abs(denominator) < 1e-150, 0., numerator / denominator)
    return values.reshape(num_trees, num_leaves)


def _apply(x, features, thresholds, max_depth):
    """The leaf [trees, samples] each row of `x` (float64) reaches in each tree."""
    nodes = np.zeros((len(features), len(x)), dtype=np.int64)
    samples = np.arange(len(x))
    for depth in range(max_depth):
        heap = 2 ** depth - 1 + nodes
        nodes = 2 * nodes + (x[samples, np.take_along_axis(features, heap, axis=1)]
                             > np.take_along_axis(thresholds, heap, axis=1))
    return nodes
