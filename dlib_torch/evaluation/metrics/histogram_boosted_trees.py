"""The fast mode's gradient-boosted trees: scikit-learn's default boosting, with splits between histogram bins.

The model is the one of boosted_trees.py (scikit-learn's `GradientBoostingClassifier()`: 100 stages of depth-3
least-squares trees on the multinomial deviance's negative gradient, one per class, learning rate 0.1, leaf
values by one Newton step, the prior as the initial prediction, impurity-decrease importances). Only the
candidate splits change: each feature's thresholds are the midpoints between its distinct values when it has at
most `max_bins` of them (then every split scikit-learn could choose is a candidate), else the midpoints of
`max_bins` quantile bins. Trees grow on bin ids, one sample pass per node, compiled by numba: about 0.3 ms per
tree at 10,000 samples and 10 codes, against scikit-learn's 36 ms (benchmarks/bench_metric_fits.py --fast).
Used by DCI's importances and the boosted-tree downstream task when `evaluation_runtime.mode = 'fast'`.
"""
import numba
import numpy as np

from dlib_torch.evaluation.metrics import boosted_trees

MAX_BINS = 65535  # bin ids fit in a uint16


class HistogramGradientBoostingClassifier(boosted_trees.GradientBoostingClassifier):
    """boosted_trees.GradientBoostingClassifier with splits restricted to `max_bins` bins per feature."""

    def __init__(self, n_estimators=100, learning_rate=0.1, max_depth=3, random_state=None, max_bins=255):
        super().__init__(n_estimators=n_estimators, learning_rate=learning_rate, max_depth=max_depth,
                         random_state=random_state)
        self.max_bins = max_bins

    def fit(self, x, y):
        x = np.ascontiguousarray(x, dtype=np.float32)  # as scikit-learn's trees
        y = np.asarray(y)
        if x.ndim != 2 or len(x) != len(y):
            raise ValueError("x must be [num_samples, num_features] and y [num_samples]; got {} and {}".format(
                x.shape, y.shape))
        if not (2 <= self.max_bins <= MAX_BINS or self.max_bins == 0):
            raise ValueError("max_bins must be between 2 and {}; got {}".format(MAX_BINS, self.max_bins))
        self.classes_, encoded = np.unique(y, return_inverse=True)
        num_classes = len(self.classes_)
        if num_classes < 2:
            raise ValueError("y contains {} class, while a minimum of 2 classes are required.".format(num_classes))
        rng = np.random.RandomState(self.random_state) if not isinstance(
            self.random_state, np.random.RandomState) else self.random_state
        num_samples, num_features = x.shape
        self.n_features_in_ = num_features
        trees_per_stage = num_classes if num_classes > 2 else 1
        if trees_per_stage == 1:
            targets = encoded[:, None].astype(np.float64)
        else:
            targets = (encoded[:, None] == np.arange(num_classes)).astype(np.float64)
        prior = np.clip(np.bincount(encoded, minlength=num_classes) / num_samples, boosted_trees.EPSILON,
                        1 - boosted_trees.EPSILON)
        if trees_per_stage == 1:
            self.init_ = np.log(prior[1:] / (1 - prior[1:]))
        else:
            self.init_ = np.log(prior) - np.mean(np.log(prior))
        raw = np.tile(self.init_, (num_samples, 1))

        x64 = x.astype(np.float64)
        edges = [bin_edges(x64[:, j], self.max_bins or 2) for j in range(num_features)]
        binned = np.empty((num_samples, num_features), dtype=np.uint8 if self.max_bins <= 256 else np.uint16)
        for j, feature_edges in enumerate(edges):
            binned[:, j] = np.searchsorted(feature_edges, x64[:, j], side="left")
        num_bins = np.array([len(feature_edges) + 1 for feature_edges in edges], dtype=np.int64)
        edge_table = np.full((num_features, max(num_bins)), np.inf)
        for j, feature_edges in enumerate(edges):
            edge_table[j, :len(feature_edges)] = feature_edges

        num_inner = 2 ** self.max_depth - 1
        num_trees = self.n_estimators * trees_per_stage
        features = np.zeros((num_trees, num_inner), dtype=np.intp)
        split_bins = np.full((num_trees, num_inner), -1, dtype=np.int64)
        values = np.zeros((num_trees, 2 ** self.max_depth))
        importances = np.zeros((num_trees, num_features))
        # Ties between equally good splits of different features: a random order, as in boosted_trees.py.
        tie_order = rng.random_sample((num_trees, num_inner, num_features))
        exact = self.max_bins == 0
        thresholds = np.full((num_trees, num_inner), np.inf)
        order = np.argsort(x64, axis=0, kind="stable").T.copy()
        sorted_x = np.take_along_axis(x64, order.T, axis=0).T.copy()
        _fit(binned, num_bins, encoded.astype(np.int64), num_classes, raw, self.n_estimators,
             float(self.learning_rate), self.max_depth, tie_order, features, split_bins, values, importances,
             exact, x64, sorted_x, order, thresholds)
        if not exact:
            splits = split_bins >= 0
            thresholds[splits] = edge_table[features[splits], split_bins[splits]]
        self.tree_features_, self.tree_thresholds_, self.tree_values_ = features, thresholds, values
        self._importances = importances
        self.n_estimators_ = self.n_estimators
        self.trees_per_stage_ = trees_per_stage
        return self

    def decision_function(self, x):
        """Raw scores [num_samples, num_classes] (or [num_samples] for two classes), as scikit-learn's."""
        x = np.ascontiguousarray(x, dtype=np.float32).astype(np.float64)
        raw = np.tile(self.init_, (len(x), 1))
        _add_tree_values(x, self.tree_features_, self.tree_thresholds_, self.tree_values_, self.max_depth,
                         self.trees_per_stage_, self.learning_rate, raw)
        return raw[:, 0] if self.trees_per_stage_ == 1 else raw


def bin_edges(values, max_bins):
    """Increasing thresholds (at most max_bins - 1) of one feature; a sample is left of threshold t if value <= t.

    With at most `max_bins` distinct values: the midpoints between neighbours more than 1e-7 apart (scikit-learn's
    candidate splits); else the midpoints between the values at the feature's max_bins - 1 inner quantiles and
    their successors, so that every bin boundary lies between two distinct values.
    """
    distinct = np.unique(values)
    if len(distinct) <= max_bins:
        low, high = distinct[:-1], distinct[1:]
    else:
        quantiles = np.quantile(values, np.linspace(0., 1., max_bins + 1)[1:-1], method="lower")
        positions = np.unique(np.searchsorted(distinct, quantiles))
        positions = positions[positions < len(distinct) - 1]
        low, high = distinct[positions], distinct[positions + 1]
    keep = high > low + boosted_trees.FEATURE_THRESHOLD
    low, high = low[keep], high[keep]
    midpoints = low / 2.0 + high / 2.0
    return np.where((midpoints == high) | np.isinf(midpoints), low, midpoints)


@numba.njit(cache=True, nogil=True)
def _fit(binned, num_bins, encoded, num_classes, raw, num_stages, learning_rate, max_depth, tie_order, features,
         split_bins, values, importances, exact, x, sorted_values, sorted_index, thresholds):
    """All boosting stages: per stage the negative gradient of the deviance at `raw` [samples, trees per stage],
    one tree per column grown on it, leaf values by one Newton step, `raw` updated. Fills the per-tree arrays
    (tree t of stage s is s * trees_per_stage + k) as documented in `_grow_tree`."""
    num_samples = binned.shape[0]
    trees_per_stage = raw.shape[1]
    num_leaves = 2 ** max_depth
    probabilities = np.empty((trees_per_stage, num_samples))
    gradients = np.empty((trees_per_stage, num_samples))
    leaves = np.empty(num_samples, dtype=np.int64)
    leaf_gradients = np.empty(num_leaves)
    leaf_curvatures = np.empty(num_leaves)
    leaf_counts = np.empty(num_leaves)
    workspace = _workspace(binned.shape[1], max_depth, num_samples, num_bins.max())
    node_of = np.zeros(num_samples, dtype=np.int64)
    stats = np.zeros((2 ** max_depth, 3))
    running = np.zeros((2 ** max_depth, 11))
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
            if exact:
                _grow_tree_exact(x, sorted_values, sorted_index, gradients[k], max_depth, tie_order[tree],
                                 features[tree], thresholds[tree], leaves, importances[tree], node_of, stats, running)
            else:
                _grow_tree(binned, num_bins, gradients[k], max_depth, tie_order[tree], features[tree],
                           split_bins[tree], leaves, importances[tree], workspace)
            leaf_gradients[:] = 0.0
            leaf_curvatures[:] = 0.0
            leaf_counts[:] = 0.0
            for i in range(num_samples):
                leaf = leaves[i]
                leaf_gradients[leaf] += gradients[k, i]
                leaf_curvatures[leaf] += probabilities[k, i] * (1.0 - probabilities[k, i])
                leaf_counts[leaf] += 1.0
            for leaf in range(num_leaves):  # scikit-learn's Newton step, on means as boosted_trees._leaf_values
                count = max(leaf_counts[leaf], 1.0)
                denominator = leaf_curvatures[leaf] / count
                if abs(denominator) < 1e-150:
                    values[tree, leaf] = 0.0
                else:
                    values[tree, leaf] = shrink * (leaf_gradients[leaf] / count) / denominator
            for i in range(num_samples):
                raw[i, k] += learning_rate * values[tree, leaves[i]]


@numba.njit(cache=True)
def _workspace(num_features, max_depth, num_samples, max_bins):
    """Buffers of `_grow_tree`, allocated once per fit."""
    num_nodes = 2 ** max_depth
    return (np.empty(num_samples, dtype=np.int64),  # order: samples grouped by node
            np.empty(num_samples, dtype=np.int64),  # scratch for the partition
            np.zeros((2, num_nodes + 1), dtype=np.int64),  # node starts, this level and the next
            np.zeros((2, num_nodes, num_features, max_bins), dtype=np.int64),  # histogram counts per node
            np.zeros((2, num_nodes, num_features, max_bins)),  # histogram gradient sums per node
            np.zeros((2, num_nodes, 2)))  # per node: gradient sum and sum of squares


@numba.njit(cache=True, nogil=True)
def _histogram(binned, g, order, start, stop, counts, sums):
    """Counts and gradient sums per feature and bin of the samples order[start:stop]."""
    counts[:, :] = 0
    sums[:, :] = 0.0
    num_features = binned.shape[1]
    for i in range(start, stop):
        sample = order[i]
        value = g[sample]
        for j in range(num_features):
            b = binned[sample, j]
            counts[j, b] += 1
            sums[j, b] += value


@numba.njit(cache=True, nogil=True)
def _grow_tree(binned, num_bins, g, max_depth, tie_order, features, split_bins, leaves, importances, workspace):
    """Grows one least-squares regression tree on the gradient `g` [samples] over `binned` [samples, features].

    Heap layout as boosted_trees.py: inner node m of depth d is 2**d - 1 + m; a node that does not split keeps
    split bin -1 and sends all its samples left. Fills the split `features` and `split_bins` [inner nodes],
    each sample's `leaves` [samples] and the unnormalised impurity decreases `importances` [features]. Each
    node's histogram is the parent's minus its sibling's when it is the larger child (one pass over the smaller).
    """
    order, scratch, starts, counts, sums, moments = workspace
    num_samples, num_features = binned.shape
    eps = np.finfo(np.float64).eps
    for i in range(num_samples):
        order[i] = i
    level = 0
    starts[level, 0] = 0
    starts[level, 1] = num_samples
    total = 0.0
    squares = 0.0
    for i in range(num_samples):
        total += g[i]
        squares += g[i] * g[i]
    moments[level, 0, 0] = total
    moments[level, 0, 1] = squares
    _histogram(binned, g, order, 0, num_samples, counts[level, 0], sums[level, 0])
    for depth in range(max_depth):
        num_nodes = 2 ** depth
        last = depth == max_depth - 1  # children are leaves: no histograms needed
        child = 1 - level
        for node in range(num_nodes):
            start, stop = starts[level, node], starts[level, node + 1]
            heap = num_nodes - 1 + node
            n = stop - start
            total, squares = moments[level, node, 0], moments[level, node, 1]
            # Unless it splits, the node's samples all go to its left child.
            starts[child, 2 * node] = start
            starts[child, 2 * node + 1] = stop
            moments[child, 2 * node, 0], moments[child, 2 * node, 1] = total, squares
            moments[child, 2 * node + 1, 0], moments[child, 2 * node + 1, 1] = 0.0, 0.0
            best_feature = -1
            best_bin = -1
            if n >= 2 and squares / n - (total / n) ** 2 > eps:
                best_gain = -np.inf
                best_tie = -1.0
                for j in range(num_features):
                    left_count = 0
                    left_sum = 0.0
                    feature_best = -np.inf
                    feature_bin = -1
                    for b in range(num_bins[j] - 1):
                        left_count += counts[level, node, j, b]
                        left_sum += sums[level, node, j, b]
                        if left_count == 0:
                            continue
                        right_count = n - left_count
                        if right_count == 0:
                            break
                        right_sum = total - left_sum
                        gain = left_sum * left_sum / left_count + right_sum * right_sum / right_count
                        if gain > feature_best:
                            feature_best = gain
                            feature_bin = b
                    if feature_bin >= 0 and (feature_best > best_gain
                                             or (feature_best == best_gain and tie_order[heap, j] > best_tie)):
                        best_gain = feature_best
                        best_feature = j
                        best_bin = feature_bin
                        best_tie = tie_order[heap, j]
            if best_feature < 0:
                if not last:
                    counts[child, 2 * node] = counts[level, node]
                    sums[child, 2 * node] = sums[level, node]
                continue
            # Stable partition of the node's samples: bin <= best_bin goes left.
            left = start
            right = 0
            left_total = 0.0
            left_squares = 0.0
            right_total = 0.0
            right_squares = 0.0
            for i in range(start, stop):  # sums in sample order, as boosted_trees.py's bincounts
                sample = order[i]
                if binned[sample, best_feature] <= best_bin:
                    order[left] = sample
                    left += 1
                    left_total += g[sample]
                    left_squares += g[sample] * g[sample]
                else:
                    scratch[right] = sample
                    right += 1
                    right_total += g[sample]
                    right_squares += g[sample] * g[sample]
            for i in range(right):
                order[left + i] = scratch[i]
            left_n = left - start
            right_n = stop - left
            impurity = squares / n - (total / n) ** 2
            left_impurity = left_squares / left_n - (left_total / left_n) ** 2
            right_impurity = right_squares / right_n - (right_total / right_n) ** 2
            importances[best_feature] += (n * impurity - left_n * left_impurity
                                          - right_n * right_impurity) / num_samples
            features[heap] = best_feature
            split_bins[heap] = best_bin
            starts[child, 2 * node + 1] = left
            moments[child, 2 * node, 0], moments[child, 2 * node, 1] = left_total, left_squares
            moments[child, 2 * node + 1, 0], moments[child, 2 * node + 1, 1] = right_total, right_squares
            if not last:
                small, large = (2 * node, 2 * node + 1) if left_n <= right_n else (2 * node + 1, 2 * node)
                small_start = start if small == 2 * node else left
                small_stop = left if small == 2 * node else stop
                _histogram(binned, g, order, small_start, small_stop, counts[child, small], sums[child, small])
                counts[child, large] = counts[level, node] - counts[child, small]
                sums[child, large] = sums[level, node] - sums[child, small]
        starts[child, 2 * num_nodes] = num_samples
        level = child
    for leaf in range(2 ** max_depth):
        for i in range(starts[level, leaf], starts[level, leaf + 1]):
            leaves[order[i]] = leaf


@numba.njit(cache=True, nogil=True)
def _add_tree_values(x, features, thresholds, values, max_depth, trees_per_stage, learning_rate, raw):
    """raw[:, tree % trees_per_stage] += learning_rate * value of the leaf each row of `x` reaches in each tree."""
    num_trees = features.shape[0]
    for i in range(x.shape[0]):
        for tree in range(num_trees):
            node = 0
            for depth in range(max_depth):
                heap = 2 ** depth - 1 + node
                node = 2 * node + (1 if x[i, features[tree, heap]] > thresholds[tree, heap] else 0)
            raw[i, tree % trees_per_stage] += learning_rate * values[tree, node]


@numba.njit(cache=True, nogil=True)
def _grow_tree_exact(x, sorted_values, sorted_index, g, max_depth, tie_order, features, thresholds, leaves,
                     importances, node_of, stats, running):
    """One least-squares tree on `g` with every split scikit-learn considers: per level, one walk over each
    feature's presorted samples evaluates each node's candidate splits (between values more than 1e-7 apart)."""
    num_features, num_samples = sorted_values.shape
    eps = np.finfo(np.float64).eps
    for i in range(num_samples):
        node_of[i] = 0
    depth_reached = 0
    for depth in range(max_depth + 1):
        num_nodes = 2 ** depth
        # stats[m] = count, sum, squares of node m, summed in sample order (boosted_trees' bincounts).
        stats[:num_nodes, :] = 0.0
        for i in range(num_samples):
            m = node_of[i]
            stats[m, 0] += 1.0
            stats[m, 1] += g[i]
            stats[m, 2] += g[i] * g[i]
        if depth > 0:  # the impurity decrease of the parents' splits
            for parent in range(num_nodes // 2):
                heap = num_nodes // 2 - 1 + parent
                if np.isinf(thresholds[heap]):
                    continue
                n = stats[2 * parent, 0] + stats[2 * parent + 1, 0]
                total = stats[2 * parent, 1] + stats[2 * parent + 1, 1]
                decrease = 0.0
                for c in range(2):
                    cn = stats[2 * parent + c, 0]
                    decrease -= cn * (stats[2 * parent + c, 2] / cn - (stats[2 * parent + c, 1] / cn) ** 2)
                decrease += running[parent, 5]  # the parent's n * impurity, kept below
                importances[features[heap]] += decrease / num_samples
        if depth == max_depth:
            break
        any_split = False
        for m in range(num_nodes):
            n = stats[m, 0]
            impurity = stats[m, 2] / n - (stats[m, 1] / n) ** 2 if n > 0 else 0.0
            running[m, 5] = n * impurity
            running[m, 6] = 1.0 if (n >= 2 and impurity > eps) else 0.0  # splittable
            running[m, 7] = -np.inf  # best gain
            running[m, 8] = -1.0  # best feature
            running[m, 9] = -1.0  # best tie order
            running[m, 10] = np.inf  # best threshold
            any_split = any_split or running[m, 6] > 0
        if not any_split:
            break
        for j in range(num_features):
            for m in range(num_nodes):
                running[m, 0] = 0.0  # count so far
                running[m, 1] = 0.0  # gradient sum so far
                running[m, 2] = -np.inf  # previous value
                running[m, 3] = -np.inf  # best gain of this feature
                running[m, 4] = 0.0  # its threshold
            for i in range(num_samples):
                sample = sorted_index[j, i]
                m = node_of[sample]
                if running[m, 6] == 0.0:
                    continue
                value = sorted_values[j, i]
                left_count = running[m, 0]
                if left_count > 0 and value > running[m, 2] + 1e-7:
                    left_sum = running[m, 1]
                    right_sum = stats[m, 1] - left_sum
                    gain = left_sum * left_sum / left_count + right_sum * right_sum / (stats[m, 0] - left_count)
                    if gain > running[m, 3]:
                        running[m, 3] = gain
                        low = running[m, 2]
                        threshold = low / 2.0 + value / 2.0
                        if threshold == value or np.isinf(threshold):
                            threshold = low
                        running[m, 4] = threshold
                running[m, 0] = left_count + 1.0
                running[m, 1] += g[sample]
                running[m, 2] = value
            for m in range(num_nodes):
                if running[m, 3] == -np.inf:
                    continue
                tie = tie_order[num_nodes - 1 + m, j]
                if running[m, 3] > running[m, 7] or (running[m, 3] == running[m, 7] and tie > running[m, 9]):
                    running[m, 7] = running[m, 3]
                    running[m, 8] = j
                    running[m, 9] = tie
                    running[m, 10] = running[m, 4]
        for m in range(num_nodes):
            heap = num_nodes - 1 + m
            if running[m, 8] >= 0:
                features[heap] = int(running[m, 8])
                thresholds[heap] = running[m, 10]
        for i in range(num_samples):
            m = node_of[i]
            heap = num_nodes - 1 + m
            node_of[i] = 2 * m + (1 if (not np.isinf(thresholds[heap])) and
                                  x[i, features[heap]] > thresholds[heap] else 0)
        depth_reached = depth + 1
    for i in range(num_samples):
        leaves[i] = node_of[i] << (max_depth - depth_reached)
