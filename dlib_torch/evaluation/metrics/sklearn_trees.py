"""scikit-learn's regression tree as gradient boosting grows it, compiled: the same tree bit for bit.

A port of scikit-learn 1.9's `DecisionTreeRegressor(criterion="squared_error", splitter="best")` fit (depth-first
builder, sklearn/tree/_tree.pyx; best splitter, _splitter.pyx `node_split_best`; dense partitioner,
_partitioner.pyx; squared-error criterion, _criterion.pyx; introsort, utils/_sorting.pyx) for what
`GradientBoostingClassifier()` asks of it: dense float32 features without missing values, unit sample weights,
every feature searched at each node, leaves of any size. Everything that decides between equally good splits is
scikit-learn's: the node's random feature order (Fisher-Yates draws from a 32-bit xorshift `rand_r` seeded once
per tree, features found constant skipped in the node's descendants), the order of the node's samples after each
unstable sort (which sets the rounding of every running sum), the criterion's sums updated from the nearer end,
and the first best split kept. Trees are arrays in scikit-learn's node order (depth first, left child first).

One shortcut, which changes no result: a run of values without ties, except between samples that are exact
copies (the same features and class, so the same targets in every tree), has one sorted order whatever the sort,
up to exchanging copies, which no sum or comparison can tell apart. So each feature's order of the training set
is sorted once per fit and split alongside the samples, and at a node the introsort partitions only the parts
that hold samples tied with other samples; every other part is copied from that order (`_introsort`).
"""
import math

import numba
import numpy as np

RAND_R_MAX = 2147483647  # scikit-learn's: the tree seed is random_state.randint(0, RAND_R_MAX)
FEATURE_THRESHOLD = np.float32(1e-7)  # values closer than this (in float32 arithmetic) are not split apart
EPSILON = np.finfo(np.float64).eps  # nodes with impurity at most this are leaves
LEAF = -1  # children of a leaf (scikit-learn's TREE_LEAF)
UNDEFINED = -2  # feature and threshold of a leaf (scikit-learn's TREE_UNDEFINED)


def max_nodes(max_depth):
    """Nodes of a full binary tree of depth `max_depth`: the size of one tree's arrays."""
    return 2 ** (max_depth + 1) - 1


class Workspace:
    """One fit's features and buffers, reused by each tree: `x` float32 [N, D] and its transpose, which samples
    are copies of which (same features and class), each feature's sorted order of the samples, the samples,
    sorted values, feature orders and the builder's stack."""

    def __init__(self, x, classes, max_depth):
        num_samples, num_features = x.shape
        self.x = x
        rows = np.concatenate([x.view(np.int32), classes.astype(np.int32)[:, None]], axis=1)
        self.copy_of = np.unique(rows, axis=0, return_inverse=True)[1].astype(np.int64).ravel()
        self.x_by_feature = np.ascontiguousarray(x.T)
        self.presorted = np.argsort(self.x_by_feature, axis=1, kind="stable").astype(np.int64)
        self.sorted_by_feature = np.empty_like(self.presorted)  # per feature, each node's samples in order
        self.goes_left = np.empty(num_samples, dtype=np.bool_)
        self.partitioned = np.empty(num_samples, dtype=np.int64)
        self.samples = np.empty(num_samples, dtype=np.int64)
        self.feature_values = np.empty(num_samples, dtype=np.float32)
        self.features = np.empty(num_features, dtype=np.int64)
        self.constant_features = np.empty(num_features, dtype=np.int64)
        self.stack = np.empty((2 * max_depth + 2, 6), dtype=np.int64)  # start, end, depth, parent, is_left, constants
        self.stack_impurity = np.empty(2 * max_depth + 2)
        self.sort_stack = np.empty((8192, 4), dtype=np.int64)
        self.tied = np.zeros(num_samples, dtype=np.uint8)
        self.rand_state = np.zeros(1, dtype=np.int64)


def grow(y, seed, max_depth, workspace, tree):
    """Grows one tree on the workspace's features and targets `y` [N] (float64) into `tree` (a `Tree`); `seed`
    is the draw `random_state.randint(0, RAND_R_MAX)` scikit-learn's splitter makes for it."""
    w = workspace
    w.rand_state[0] = seed
    w.sorted_by_feature[:] = w.presorted
    tree.node_count = _grow(w.x, w.x_by_feature, w.sorted_by_feature, w.copy_of, w.goes_left, w.partitioned, y,
                            max_depth, w.samples, w.feature_values, w.features, w.constant_features, w.stack,
                            w.stack_impurity, (w.sort_stack, w.tied), w.rand_state, tree.children_left,
                            tree.children_right, tree.feature, tree.threshold, tree.impurity,
                            tree.weighted_n_node_samples, tree.value)
    return tree


class Tree:
    """One tree's nodes, scikit-learn's `Tree` arrays (only the first `node_count` entries are used)."""

    def __init__(self, max_depth):
        size = max_nodes(max_depth)
        self.node_count = 0
        self.children_left = np.full(size, LEAF, dtype=np.int64)
        self.children_right = np.full(size, LEAF, dtype=np.int64)
        self.feature = np.full(size, UNDEFINED, dtype=np.int64)
        self.threshold = np.full(size, float(UNDEFINED))
        self.impurity = np.zeros(size)
        self.weighted_n_node_samples = np.zeros(size)
        self.value = np.zeros(size)


@numba.njit(cache=True, nogil=True, inline="always")
def _rand_int(low, high, state):
    """scikit-learn's rand_int: low + our_rand_r(state) % (high - low), our_rand_r a 32-bit xorshift."""
    seed = state[0]
    if seed == 0:
        seed = 1
    seed ^= (seed << 13) & 0xFFFFFFFF
    seed ^= seed >> 17
    seed ^= (seed << 5) & 0xFFFFFFFF
    state[0] = seed
    return low + (seed % (RAND_R_MAX + 1)) % (high - low)


@numba.njit(cache=True, nogil=True, inline="always")
def _swap(values, indices, i, j):
    values[i], values[j] = values[j], values[i]
    indices[i], indices[j] = indices[j], indices[i]


@numba.njit(cache=True, nogil=True, inline="always")
def _median3(values, start, n):
    """Median of the first, middle and last value (Bentley and McIlroy), as scikit-learn's median3."""
    a, b, c = values[start], values[start + n // 2], values[start + n - 1]
    if a < b:
        if b < c:
            return b
        if a < c:
            return c
        return a
    if b < c:
        if a < c:
            return a
        return c
    return b


@numba.njit(cache=True, nogil=True, inline="always")
def _insertion_sort(values, indices, start, n):
    for i in range(1, n):
        value, index = values[start + i], indices[start + i]
        j = i
        while j > 0 and values[start + j - 1] > value:
            values[start + j] = values[start + j - 1]
            indices[start + j] = indices[start + j - 1]
            j -= 1
        values[start + j] = value
        indices[start + j] = index


@numba.njit(cache=True, nogil=True, inline="always")
def _sift_down(values, indices, offset, start, end):
    root = start
    while True:
        child = root * 2 + 1
        largest = root
        if child < end and values[offset + largest] < values[offset + child]:
            largest = child
        if child + 1 < end and values[offset + largest] < values[offset + child + 1]:
            largest = child + 1
        if largest == root:
            return
        _swap(values, indices, offset + root, offset + largest)
        root = largest


@numba.njit(cache=True, nogil=True)
def _heapsort(values, indices, offset, n):
    start = (n - 2) // 2
    while True:
        _sift_down(values, indices, offset, start, n)
        if start == 0:
            break
        start -= 1
    end = n - 1
    while end > 0:
        _swap(values, indices, offset, offset + end)
        _sift_down(values, indices, offset, 0, end)
        end -= 1


@numba.njit(cache=True, nogil=True)
def _sort(values, indices, start, n, stack):
    """scikit-learn's simultaneous_sort with three-way partitions (introsort_3way) of values[start:start + n]
    and indices alike."""
    everything = np.ones(start + n, dtype=np.uint8)
    _introsort(values, indices, start, n, stack, everything, n, indices, values)


@numba.njit(cache=True, nogil=True)
def _introsort(values, indices, start, n, stack, tied, num_tied, order, column):
    """scikit-learn's introsort_3way of values[start:start + n] and indices alike, where `tied[index]` marks the
    elements whose value another element shares (`num_tied` of them). Its recursion on the left part becomes a
    stack (the parts are disjoint, so the order in which they are sorted does not change the result). A part
    holding no tied element has one sorted order, whatever the sort: it is copied from `order` (the indices in
    sorted order) and `column` (their values) instead of being sorted."""
    if n == 0:
        return
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = start, n, 2 * int(math.log2(n)), num_tied
    top = 1
    while top > 0:
        top -= 1
        offset, size, max_depth, ties = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3]
        done = False
        while size > 15 and ties > 0:
            if max_depth <= 0:  # "gone quadratic"
                _heapsort(values, indices, offset, size)
                done = True
                break
            max_depth -= 1
            pivot = _median3(values, offset, size)
            i = low = 0
            high = size
            counting = ties < size  # where every element is tied, so is every part
            ties_low = ties_high = 0
            while i < high:
                if values[offset + i] < pivot:
                    _swap(values, indices, offset + i, offset + low)
                    if counting:
                        ties_low += tied[indices[offset + low]]
                    i += 1
                    low += 1
                elif values[offset + i] > pivot:
                    high -= 1
                    _swap(values, indices, offset + i, offset + high)
                    if counting:
                        ties_high += tied[indices[offset + high]]
                else:
                    i += 1
            if not counting:
                ties_low, ties_high = low, size - high
            stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = offset, low, max_depth, ties_low
            top += 1
            offset += high
            size -= high
            ties = ties_high
        if done:
            continue
        if ties > 0:
            _insertion_sort(values, indices, offset, size)
        else:
            for p in range(offset, offset + size):
                indices[p] = order[p]
                values[p] = column[order[p]]


@numba.njit(cache=True, nogil=True, inline="always")
def _sum_left(y, samples, start, end, position, new_position, sum_total, weight_node, sum_left, weight_left):
    """The criterion's update to `new_position`: the left sum carried on from `position`, or rebuilt from the
    node's end when that is nearer (scikit-learn's RegressionCriterion.update)."""
    if new_position - position <= end - new_position:
        for p in range(position, new_position):
            sum_left += y[samples[p]]
            weight_left += 1.0
    else:
        sum_left = sum_total
        weight_left = weight_node
        for p in range(end - 1, new_position - 1, -1):
            sum_left -= y[samples[p]]
            weight_left -= 1.0
    return sum_left, weight_left


@numba.njit(cache=True, nogil=True)
def _sort_node(x_by_feature, sorted_by_feature, copy_of, feature, samples, feature_values, start, end, sorting):
    """samples[start:end] and feature_values sorted by `feature` as scikit-learn's introsort leaves them, up to
    exchanging copies: the introsort where samples other than copies tie, on the parts that hold them; the node's
    presorted order elsewhere."""
    values, order = x_by_feature[feature], sorted_by_feature[feature]
    sort_stack, tied = sorting
    num_tied = 0
    p = start
    while p < end:  # mark the runs of equal values that hold more than copies of one sample
        q = p + 1
        mixed = False
        while q < end and values[order[q]] == values[order[p]]:
            mixed = mixed or copy_of[order[q]] != copy_of[order[p]]
            q += 1
        if mixed:
            for r in range(p, q):
                tied[order[r]] = 1
            num_tied += q - p
        p = q
    if num_tied == 0:
        for p in range(start, end):
            samples[p] = order[p]
            feature_values[p] = values[order[p]]
        return
    for p in range(start, end):
        feature_values[p] = values[samples[p]]
    _introsort(feature_values, samples, start, end - start, sort_stack, tied, num_tied, order, values)
    for p in range(start, end):
        tied[order[p]] = 0


@numba.njit(cache=True, nogil=True)
def _split_presorted(sorted_by_feature, samples, start, position, end, goes_left, partitioned):
    """Each feature's order of the node's samples split into its children's orders, each kept sorted."""
    for p in range(start, end):
        goes_left[samples[p]] = p < position
    for order in sorted_by_feature:
        left, right = start, position
        for p in range(start, end):
            sample = order[p]
            if goes_left[sample]:
                partitioned[left] = sample
                left += 1
            else:
                partitioned[right] = sample
                right += 1
        order[start:end] = partitioned[start:end]


@numba.njit(cache=True, nogil=True)
def _node_split(x, x_by_feature, sorted_by_feature, copy_of, y, samples, feature_values, features,
                constant_features, start, end, num_known_constants, sum_total, sq_sum_total, weight_node, weight_all,
                impurity, rand_state, sorting):
    """scikit-learn's node_split_best. Returns the split position (`end`: no split), feature, threshold,
    impurity improvement, the children's impurities and the number of features known constant below."""
    num_features = features.shape[0]
    best_position, best_feature, best_threshold = end, 0, 0.0
    best_proxy = -np.inf
    f_i = num_features
    num_visited = num_found_constants = num_drawn_constants = 0
    num_total_constants = num_known_constants
    while f_i > num_total_constants and (num_visited < num_features
                                         or num_visited <= num_found_constants + num_drawn_constants):
        num_visited += 1
        f_j = _rand_int(num_drawn_constants, f_i - num_found_constants, rand_state)
        if f_j < num_known_constants:  # a feature constant in an ancestor: drawn, not searched
            features[num_drawn_constants], features[f_j] = features[f_j], features[num_drawn_constants]
            num_drawn_constants += 1
            continue
        f_j += num_found_constants
        current = features[f_j]
        _sort_node(x_by_feature, sorted_by_feature, copy_of, current, samples, feature_values, start, end,
                   sorting)
        if feature_values[end - 1] <= feature_values[start] + FEATURE_THRESHOLD:  # constant here
            features[f_j], features[num_total_constants] = features[num_total_constants], features[f_j]
            num_found_constants += 1
            num_total_constants += 1
            continue
        f_i -= 1
        features[f_i], features[f_j] = features[f_j], features[f_i]
        position, sum_left, weight_left = start, 0.0, 0.0
        p = start
        while p < end:
            p += 1
            while p < end and feature_values[p] <= feature_values[p - 1] + FEATURE_THRESHOLD:
                p += 1
            if p == end:
                continue
            sum_left, weight_left = _sum_left(y, samples, start, end, position, p, sum_total, weight_node,
                                              sum_left, weight_left)
            position = p
            weight_right = weight_node - weight_left
            sum_right = sum_total - sum_left
            proxy = sum_left * sum_left / weight_left + sum_right * sum_right / weight_right
            if proxy > best_proxy:  # the first best, in the order searched
                best_proxy = proxy
                best_threshold = np.float64(feature_values[p - 1]) / 2.0 + np.float64(feature_values[p]) / 2.0
                best_feature, best_position = current, p
    improvement, impurity_left, impurity_right = -np.inf, np.inf, np.inf
    if best_position < end:
        left, right = start, end  # partition_samples_final
        while left < right:
            if np.float64(x[samples[left], best_feature]) <= best_threshold:
                left += 1
            else:
                right -= 1
                samples[left], samples[right] = samples[right], samples[left]
        sum_left, weight_left = _sum_left(y, samples, start, end, start, best_position, sum_total, weight_node,
                                          0.0, 0.0)
        weight_right = weight_node - weight_left
        sum_right = sum_total - sum_left
        sq_sum_left = 0.0  # children_impurity
        for p in range(start, best_position):
            value = y[samples[p]]
            sq_sum_left += value * value
        mean_left, mean_right = sum_left / weight_left, sum_right / weight_right
        impurity_left = sq_sum_left / weight_left - mean_left * mean_left
        impurity_right = (sq_sum_total - sq_sum_left) / weight_right - mean_right * mean_right
        improvement = (weight_node / weight_all) * (impurity - (weight_right / weight_node * impurity_right)
                                                    - (weight_left / weight_node * impurity_left))
    # Features constant here go to the front, in the order they were found, for the children's draws.
    for j in range(num_known_constants):
        features[j] = constant_features[j]
    for j in range(num_known_constants, num_total_constants):
        constant_features[j] = features[j]
    return (best_position, best_feature, best_threshold, improvement, impurity_left, impurity_right,
            num_total_constants)


@numba.njit(cache=True, nogil=True)
def _grow(x, x_by_feature, sorted_by_feature, copy_of, goes_left, partitioned, y, max_depth, samples, feature_values,
          features, constant_features, stack, stack_impurity, sorting, rand_state, children_left, children_right,
          feature, threshold, impurity_of, weighted, value):
    """scikit-learn's DepthFirstTreeBuilder.build; returns the node count."""
    num_samples, num_features = x.shape
    for i in range(num_samples):
        samples[i] = i
    for j in range(num_features):
        features[j] = j
    weight_all = 0.0
    for i in range(num_samples):
        weight_all += 1.0
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3], stack[0, 4], stack[0, 5] = 0, num_samples, 0, -1, 0, 0
    stack_impurity[0] = np.inf
    top = 1
    node_count = 0
    first = True
    while top > 0:
        top -= 1
        start, end, depth, parent, is_left, num_constants = (stack[top, 0], stack[top, 1], stack[top, 2],
                                                             stack[top, 3], stack[top, 4], stack[top, 5])
        impurity = stack_impurity[top]
        sum_total, sq_sum_total, weight_node = 0.0, 0.0, 0.0  # criterion.init, in the samples' order
        for p in range(start, end):
            target = y[samples[p]]
            sum_total += target
            sq_sum_total += target * target
            weight_node += 1.0
        is_leaf = depth >= max_depth or end - start < 2
        if first:
            mean = sum_total / weight_node
            impurity = sq_sum_total / weight_node - mean * mean
            first = False
        is_leaf = is_leaf or impurity <= EPSILON
        position, split_feature, split_threshold = end, 0, 0.0
        impurity_left = impurity_right = 0.0
        if not is_leaf:
            (position, split_feature, split_threshold, improvement, impurity_left, impurity_right,
             num_constants) = _node_split(x, x_by_feature, sorted_by_feature, copy_of, y, samples, feature_values,
                                          features, constant_features, start, end, num_constants, sum_total,
                                          sq_sum_total, weight_node, weight_all, impurity, rand_state, sorting)
            is_leaf = position >= end or improvement + EPSILON < 0.0
            if not is_leaf and depth + 1 < max_depth:  # the children split too
                _split_presorted(sorted_by_feature, samples, start, position, end, goes_left, partitioned)
        node = node_count
        node_count += 1
        if parent != -1:
            if is_left:
                children_left[parent] = node
            else:
                children_right[parent] = node
        children_left[node] = children_right[node] = LEAF
        if is_leaf:
            feature[node], threshold[node] = UNDEFINED, UNDEFINED
        else:
            feature[node], threshold[node] = split_feature, split_threshold
        impurity_of[node] = impurity
        weighted[node] = weight_node
        value[node] = sum_total / weight_node
        if not is_leaf:  # the right child first, so that the left one is grown first
            stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3], stack[top, 4], stack[top, 5] = (
                position, end, depth + 1, node, 0, num_constants)
            stack_impurity[top] = impurity_right
            stack[top + 1, 0], stack[top + 1, 1], stack[top + 1, 2] = start, position, depth + 1
            stack[top + 1, 3], stack[top + 1, 4], stack[top + 1, 5] = node, 1, num_constants
            stack_impurity[top + 1] = impurity_left
            top += 2
    return node_count


@numba.njit(cache=True, nogil=True)
def apply(x, children_left, children_right, feature, threshold):
    """The leaf (node index) each row of float32 `x` reaches: left where x[feature] <= threshold (in float64)."""
    leaves = np.empty(x.shape[0], dtype=np.int64)
    for i in range(x.shape[0]):
        node = 0
        while children_left[node] != LEAF:
            if np.float64(x[i, feature[node]]) <= threshold[node]:
                node = children_left[node]
            else:
                node = children_right[node]
        leaves[i] = node
    return leaves


@numba.njit(cache=True, nogil=True)
def unnormalised_importances(children_left, children_right, feature, impurity, weighted, node_count, out):
    """scikit-learn's Tree.compute_feature_importances(normalize=False) into `out` [features]."""
    out[:] = 0.0
    for node in range(node_count):
        left = children_left[node]
        if left != LEAF:
            right = children_right[node]
            out[feature[node]] += (weighted[node] * impurity[node] - weighted[left] * impurity[left]
                                   - weighted[right] * impurity[right])
    for j in range(out.shape[0]):
        out[j] /= weighted[0]
