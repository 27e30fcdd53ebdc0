"""The fast evaluation mode's gradient-boosted trees: parity's model and candidate splits, grown by faster loops.

The model is scikit-learn's `GradientBoostingClassifier()`, as parity's boosted_trees.py (100 stages of depth-3
least-squares trees on the deviance's negative gradient, one per class, learning rate 0.1, leaf values by one
Newton step, the prior as the initial prediction, impurity-decrease importances), with the same candidate
splits: between neighbouring values more than 1e-7 apart, thresholds at the midpoint. The loops are compiled by
numba: each feature is sorted once per fit; per tree and level, one walk over each node's samples in that
order scores all its splits, and stable partitions keep every feature's order grouped by node.

What can differ from parity (which is scikit-learn's trees bit for bit), and only in near-ties: a split's gain is
computed as `left_sum**2 * (1 / left_count) + right_sum**2 * (1 / right_count)` with the node's prefix sums
started at its first sample, so two candidates whose gains agree to the last bits may be ranked the other way;
nodes whose gradients are equal up to rounding may stay leaves where scikit-learn splits on the rounding; exactly
equal splits of different features are ordered by a draw of `random_state` of its own, not by scikit-learn's
per-node feature order (which parity follows). benchmarks/bench_evaluate.py --mode=fast prints the deviations.
"""
import numba
import numpy as np
from sklearn.utils import check_random_state

from dlib_torch.evaluation.metrics import boosted_trees

EPSILON = np.finfo(np.float64).eps  # the prior is clipped to [eps, 1 - eps]


class GradientBoostingClassifier(boosted_trees.GradientBoostingClassifier):
    """boosted_trees.GradientBoostingClassifier, fitted and applied by compiled loops (see the module doc)."""

    def fit(self, x, y):
        x, encoded, _, raw, rng = self._start_fit(x, y)
        num_features = x.shape[1]
        num_classes, trees_per_stage = len(self.classes_), raw.shape[1]

        x_by_feature = np.ascontiguousarray(x.T, dtype=np.float64)
        sorted_index = np.argsort(x_by_feature, axis=1, kind="stable")
        num_inner = 2 ** self.max_depth - 1
        num_trees = self.n_estimators * trees_per_stage
        features = np.zeros((num_trees, num_inner), dtype=np.intp)
        thresholds = np.full((num_trees, num_inner), np.inf)
        values = np.zeros((num_trees, 2 ** self.max_depth))
        importances = np.zeros((num_trees, num_features))
        tie_order = rng.random_sample((num_trees, num_inner, num_features))
        _fit(x_by_feature, sorted_index, encoded.astype(np.int64), num_classes, raw, self.n_estimators,
             float(self.learning_rate), self.max_depth, tie_order, features, thresholds, values, importances)
        self.tree_features_, self.tree_thresholds_, self.tree_values_ = features, thresholds, values
        self._importances = importances
        # The fit's final scores are the decision function on its own inputs, bit for bit (the same trees
        # added in the same order): kept, so that scoring the training set costs nothing.
        self._training_inputs, self._training_scores = x.copy(), raw
        self.n_estimators_ = self.n_estimators
        self.trees_per_stage_ = trees_per_stage
        return self

    def _start_fit(self, x, y):
        """Checks the inputs and sets classes_, n_features_in_ and init_ (the prior's raw scores); returns float32
        x [N, D], the class indices [N], the one-vs-rest targets [N, trees per stage], the initial raw scores and
        the rng."""
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
        x = np.ascontiguousarray(x, dtype=np.float32)
        training = getattr(self, "_training_inputs", None)
        if training is not None and x.shape == training.shape and np.array_equal(x, training):
            raw = self._training_scores.copy()
            return raw[:, 0] if self.trees_per_stage_ == 1 else raw
        x = x.astype(np.float64)
        raw = np.tile(self.init_, (len(x), 1))
        _add_tree_values(x, self.tree_features_, self.tree_thresholds_, self.tree_values_, self.max_depth,
                         self.trees_per_stage_, float(self.learning_rate), raw)
        return raw[:, 0] if self.trees_per_stage_ == 1 else raw


@numba.njit(cache=True, nogil=True)
def _fit(x_by_feature, sorted_index, encoded, num_classes, raw, num_stages, learning_rate, max_depth, tie_order,
         features, thresholds, values, importances):
    """All boosting stages. Per stage: the deviance's negative gradient at `raw` [samples, trees per stage], one
    tree per column grown on it (tree k of stage s is s * trees_per_stage + k), leaf values by one Newton step
    (mean gradient over mean p(1 - p), summed in sample order), `raw` moved by the learning rate."""
    num_features, num_samples = x_by_feature.shape
    trees_per_stage = raw.shape[1]
    num_leaves = 2 ** max_depth
    probabilities = np.empty((trees_per_stage, num_samples))
    gradients = np.empty((trees_per_stage, num_samples))
    leaves = np.empty(num_samples, dtype=np.int64)
    leaf_gradients = np.empty(num_leaves)
    leaf_curvatures = np.empty(num_leaves)
    leaf_counts = np.empty(num_leaves)
    buffers = (np.empty(num_samples, dtype=np.int64),  # each sample's node
               np.zeros((3 * num_leaves, 3)),  # node statistics (see _grow_tree)
               np.empty((2, num_features, num_samples), dtype=np.int64),  # per feature: sorted samples by node
               np.zeros(num_leaves + 1, dtype=np.int64),  # node starts in those lists
               np.zeros(num_samples, dtype=np.int64),  # each sample's side of its node's split
               np.zeros(num_leaves + 1, dtype=np.int64),  # node starts of the next level
               1.0 / np.maximum(np.arange(num_samples + 1), 1.0))  # reciprocals of the counts
    shrink = (num_classes - 1) / num_classes if num_classes > 2 else 1.0
    for stage in range(num_stages):
        for i in range(num_samples):
            if trees_per_stage == 1:
                p = 1.0 / (1.0 + np.exp(-raw[i, 0]))
                probabilities[0, i] = p
                gradients[0, i] = (1.0 if encoded[i] == 1 else 0.0) - p
            else:
                largest = raw[i, 0]
                for k in range(1, trees_per_stage):
                    largest = max(largest, raw[i, k])
                total = 0.0
                for k in range(trees_per_stage):
                    probabilities[k, i] = np.exp(raw[i, k] - largest)
                    total += probabilities[k, i]
                for k in range(trees_per_stage):
                    probabilities[k, i] /= total
                    gradients[k, i] = (1.0 if encoded[i] == k else 0.0) - probabilities[k, i]
        for k in range(trees_per_stage):
            tree = stage * trees_per_stage + k
            _grow_tree(x_by_feature, sorted_index, gradients[k], max_depth, tie_order[tree], features[tree],
                       thresholds[tree], leaves, importances[tree], buffers)
            leaf_gradients[:] = 0.0
            leaf_curvatures[:] = 0.0
            leaf_counts[:] = 0.0
            for i in range(num_samples):
                leaf = leaves[i]
                leaf_gradients[leaf] += gradients[k, i]
                leaf_curvatures[leaf] += probabilities[k, i] * (1.0 - probabilities[k, i])
                leaf_counts[leaf] += 1.0
            for leaf in range(num_leaves):
                count = max(leaf_counts[leaf], 1.0)
                denominator = leaf_curvatures[leaf] / count
                if abs(denominator) < 1e-150:
                    values[tree, leaf] = 0.0
                else:
                    values[tree, leaf] = shrink * (leaf_gradients[leaf] / count) / denominator
            for i in range(num_samples):
                raw[i, k] += learning_rate * values[tree, leaves[i]]


@numba.njit(cache=True, nogil=True)
def _grow_tree(x_by_feature, sorted_index, g, max_depth, tie_order, features, thresholds, leaves, importances,
               buffers):
    """One least-squares regression tree on the gradient `g` [samples], level by level.

    Heap layout as boosted_trees.py: inner node m of depth d is 2**d - 1 + m; a node that does not split keeps
    threshold +inf and sends all its samples left. A node splits when it has 2 samples and impurity above
    machine epsilon (scikit-learn's rules). Fills `features` and `thresholds` [inner nodes], each sample's
    `leaves` [samples] and the unnormalised impurity decreases `importances` [features].
    """
    node_of, stats, regrouped, starts, side, next_starts, reciprocal = buffers
    num_features, num_samples = x_by_feature.shape
    eps = np.finfo(np.float64).eps
    for i in range(num_samples):
        node_of[i] = 0
    segments = sorted_index  # level 0: one node, the presorted samples themselves
    starts[0] = 0
    starts[1] = num_samples
    depth_reached = 0
    for depth in range(max_depth + 1):
        num_nodes = 2 ** depth
        # Rows 0..num_nodes-1: count, gradient sum and sum of squares per node, summed in sample order (as
        # boosted_trees' bincounts); row 2 * num_nodes + m keeps node m's count x impurity for its children.
        stats[:num_nodes, :] = 0.0
        for i in range(num_samples):
            m = node_of[i]
            stats[m, 0] += 1.0
            stats[m, 1] += g[i]
            stats[m, 2] += g[i] * g[i]
        if depth > 0:  # the impurity decreases of the parents' splits
            for parent in range(num_nodes // 2):
                heap = num_nodes // 2 - 1 + parent
                if np.isinf(thresholds[heap]):
                    continue
                decrease = stats[num_nodes + parent, 0]
                for child in range(2 * parent, 2 * parent + 2):
                    count = stats[child, 0]
                    decrease -= count * (stats[child, 2] / count - (stats[child, 1] / count) ** 2)
                importances[features[heap]] += decrease / num_samples
        if depth == max_depth:
            break
        any_split = False
        for m in range(num_nodes):
            n = stats[m, 0]
            if n < 2:
                continue
            impurity = stats[m, 2] / n - (stats[m, 1] / n) ** 2
            stats[2 * num_nodes + m, 0] = n * impurity
            if impurity <= eps:
                continue
            start, stop = starts[m], starts[m + 1]
            total = stats[m, 1]
            best_gain = -np.inf
            best_feature = -1
            best_tie = -1.0
            best_threshold = np.inf
            for j in range(num_features):
                left_count = 0
                left_sum = 0.0
                previous = -np.inf
                feature_best = -np.inf
                feature_threshold = np.inf
                column = x_by_feature[j]
                for i in range(start, stop):
                    sample = segments[j, i]
                    value = column[sample]
                    if left_count > 0 and value > previous + 1e-7:
                        right_sum = total - left_sum
                        gain = (left_sum * left_sum * reciprocal[left_count]
                                + right_sum * right_sum * reciprocal[stop - start - left_count])
                        if gain > feature_best:  # the first best position, as scikit-learn
                            feature_best = gain
                            threshold = previous / 2.0 + value / 2.0
                            if threshold == value or np.isinf(threshold):
                                threshold = previous
                            feature_threshold = threshold
                    left_count += 1
                    left_sum += g[sample]
                    previous = value
                if feature_best == -np.inf:
                    continue
                tie = tie_order[num_nodes - 1 + m, j]
                if feature_best > best_gain or (feature_best == best_gain and tie > best_tie):
                    best_gain = feature_best
                    best_feature = j
                    best_tie = tie
                    best_threshold = feature_threshold
            if best_feature >= 0:
                features[num_nodes - 1 + m] = best_feature
                thresholds[num_nodes - 1 + m] = best_threshold
                any_split = True
        if not any_split:
            break
        for m in range(2 * num_nodes + 1):
            next_starts[m] = 0
        for i in range(num_samples):
            heap = num_nodes - 1 + node_of[i]
            side[i] = 1 if x_by_feature[features[heap], i] > thresholds[heap] else 0
            node_of[i] = 2 * node_of[i] + side[i]
            next_starts[node_of[i] + 1] += 1
        for m in range(2 * num_nodes):  # child m's samples start where child m - 1's end
            next_starts[m + 1] += next_starts[m]
        depth_reached = depth + 1
        if depth + 1 < max_depth:  # regroup each feature's sorted samples by child node, keeping their order
            target = regrouped[depth % 2]
            for j in range(num_features):
                for m in range(num_nodes):
                    left = next_starts[2 * m]
                    right = next_starts[2 * m + 1]
                    for i in range(starts[m], starts[m + 1]):
                        sample = segments[j, i]
                        if side[sample] == 0:
                            target[j, left] = sample
                            left += 1
                        else:
                            target[j, right] = sample
                            right += 1
            segments = target
            for m in range(2 * num_nodes + 1):
                starts[m] = next_starts[m]
    for i in range(num_samples):
        leaves[i] = node_of[i] << (max_depth - depth_reached)


@numba.njit(cache=True, nogil=True)
def _add_tree_values(x, features, thresholds, values, max_depth, trees_per_stage, learning_rate, raw):
    """raw[i, tree % trees_per_stage] += learning_rate * the value of the leaf row i of `x` reaches in each tree."""
    num_trees = features.shape[0]
    for i in range(x.shape[0]):
        for tree in range(num_trees):
            node = 0
            for depth in range(max_depth):
                heap = 2 ** depth - 1 + node
                node = 2 * node + (1 if x[i, features[tree, heap]] > thresholds[tree, heap] else 0)
            raw[i, tree % trees_per_stage] += learning_rate * values[tree, node]
