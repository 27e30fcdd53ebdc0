"""The compiled port of scikit-learn's tree builder against scikit-learn itself: its sort, then whole trees."""
import os

import numpy as np
import pytest
from sklearn import tree as sklearn_tree
from sklearn.utils import _sorting

from dlib_torch.evaluation.metrics import sklearn_trees

FIXTURE = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "fixtures", "sklearn_trees",
                       "heapsort_input.npz")


def _sorted_as_sklearn(values):
    """The permutation scikit-learn's simultaneous_sort (introsort, three-way partitions) leaves."""
    values, indices = values.copy(), np.arange(len(values))
    # pylint: disable-next=protected-access (scikit-learn's own wrapper of its sort, for testing)
    _sorting._py_simultaneous_sort(values, indices, len(values), use_three_way_partition=True)
    return indices


def _sorted_by_us(values, start=0):
    values = np.concatenate([np.zeros(start, np.float32), values])
    indices = np.arange(len(values))
    # pylint: disable-next=protected-access
    sklearn_trees._sort(values, indices, start, len(values) - start, np.empty((4096, 4), np.int64))
    return indices[start:] - start


@pytest.mark.parametrize("num_tie_groups", [1, 5, 40])
def test_sorting_only_the_parts_that_hold_ties_leaves_sklearns_order(num_tie_groups):
    # Distinct values but for `num_tie_groups` groups of equal ones: the parts without ties are copied from the
    # sorted order instead of sorted, and the result is still the permutation scikit-learn's sort leaves.
    random_state = np.random.RandomState(num_tie_groups)
    values = random_state.permutation(3000).astype(np.float32)
    for group in range(num_tie_groups):
        members = random_state.choice(3000, size=random_state.randint(2, 6), replace=False)
        values[members] = values[members[0]]
    tied = np.zeros(3000, dtype=np.uint8)
    unique, counts = np.unique(values, return_counts=True)
    tied[np.isin(values, unique[counts > 1])] = 1
    order = np.argsort(values, kind="stable")
    ours, indices = values.copy(), np.arange(3000)
    # pylint: disable-next=protected-access
    sklearn_trees._introsort(ours, indices, 0, 3000, np.empty((4096, 4), np.int64), tied, int(tied.sum()), order,
                             values)
    np.testing.assert_array_equal(indices, _sorted_as_sklearn(values))
    np.testing.assert_array_equal(ours, np.sort(values))


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 100, 2000])
def test_the_sort_leaves_ties_in_sklearns_order(size):
    random_state = np.random.RandomState(size)
    for values in (random_state.randint(3, size=size), random_state.randint(size // 4 + 1, size=size),
                   random_state.randn(size), np.sort(random_state.randint(5, size=size)),
                   np.sort(random_state.randint(5, size=size))[::-1], np.zeros(size)):
        values = np.ascontiguousarray(values, dtype=np.float32)
        np.testing.assert_array_equal(_sorted_by_us(values, start=7), _sorted_as_sklearn(values))


def test_the_sorts_heapsort_fallback_is_sklearns():
    # Values made by McIlroy's quicksort adversary (tests/fixtures/sklearn_trees/make_fixture.py): partitions
    # degenerate until the depth limit hands 268 of the 300 values to heapsort.
    values = np.load(FIXTURE)["values"]
    np.testing.assert_array_equal(_sorted_by_us(values), _sorted_as_sklearn(values))


def _regression_problem(kind, seed):
    """Features [400, 7] float32 and targets with the ties of `kind`."""
    random_state = np.random.RandomState(seed)
    x = random_state.randn(400, 7).astype(np.float32)
    if kind == "ties":
        x = np.round(x)
    elif kind == "duplicated":
        x[:, 3] = x[:, 1]
    elif kind == "constant":
        x[:, :3] = np.round(x[:, :3] / 2)  # columns that become constant within nodes
    y = np.round(x[:, 1] + x[:, 3] + random_state.randn(400), 1)  # tied targets too
    if kind == "repeated":  # few distinct rows, whose copies have different targets
        x = np.round(x)
        x[:, 4:] = x[:, :3]
        y = random_state.randn(400) + x[:, 0]
        x[:, 4] = np.round(y * 3)
    return x, y


@pytest.mark.parametrize("kind", ["ties", "duplicated", "constant", "repeated", "continuous"])
def test_a_deep_tree_is_sklearns_node_for_node(kind):
    # Deeper than boosting's trees, so that features found constant are carried down several levels.
    for seed in range(5):
        x, y = _regression_problem(kind, seed)
        theirs = sklearn_tree.DecisionTreeRegressor(max_depth=7, random_state=seed).fit(
            x, y, sample_weight=np.ones(len(y))).tree_
        workspace = sklearn_trees.Workspace(x, np.unique(y, return_inverse=True)[1], 7)  # copies: same x and y
        seed_draw = np.random.RandomState(seed).randint(0, sklearn_trees.RAND_R_MAX)
        ours = sklearn_trees.grow(y, seed_draw, 7, workspace, sklearn_trees.Tree(7))
        assert ours.node_count == theirs.node_count
        for name in ("children_left", "children_right", "feature", "threshold", "impurity",
                     "weighted_n_node_samples"):
            np.testing.assert_array_equal(getattr(ours, name)[:ours.node_count], getattr(theirs, name), err_msg=name)
        np.testing.assert_array_equal(ours.value[:ours.node_count], theirs.value[:, 0, 0])
        np.testing.assert_array_equal(
            sklearn_trees.apply(x, ours.children_left, ours.children_right, ours.feature, ours.threshold),
            theirs.apply(x))
