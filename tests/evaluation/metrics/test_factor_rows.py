"""Interventional sampling over the rows of a factors array."""
import itertools

import numpy as np
import pytest

from dlib_torch.evaluation.metrics import factor_rows
from dlib_torch.utils.errors import UserError


def _grid():
    return np.array(list(itertools.product(range(2), range(3), [5, 7])))


def test_sample_matching_draws_rows_with_the_requested_values():
    rows = factor_rows.FactorRows(_grid())
    random_state = np.random.RandomState(0)
    values = np.array([5, 7, 7, 5] * 50)
    drawn = rows.sample_matching(2, values, random_state)
    np.testing.assert_array_equal(rows.factors[drawn, 2], values)
    assert len(np.unique(drawn)) == len(_grid())  # every matching row gets drawn
    with pytest.raises(UserError, match="no row has factor 2 = \\[6\\]"):
        rows.sample_matching(2, [6], random_state)


def test_counterfactual_changes_only_the_intervened_factor():
    factors = _grid()
    rows = factor_rows.FactorRows(np.vstack([factors, factors]))  # duplicates: either copy may be drawn
    originals = np.arange(12)
    found = rows.counterfactual(originals, 1, 2, np.random.RandomState(0))
    expected = factors[originals].copy()
    expected[:, 1] = 2
    np.testing.assert_array_equal(rows.factors[found], expected)
    per_row = rows.counterfactual(originals, 0, np.arange(12) % 2, np.random.RandomState(0))
    np.testing.assert_array_equal(rows.factors[per_row, 0], np.arange(12) % 2)


def test_counterfactual_of_a_missing_combination_is_a_clear_error():
    rows = factor_rows.FactorRows(_grid()[1:])
    with pytest.raises(UserError, match="do not occur in the rows"):
        rows.counterfactual(np.array([0]), 2, 5, np.random.RandomState(0))  # asks for (0, 0, 5)
    with pytest.raises(UserError, match="do not occur in the rows"):
        rows.counterfactual(np.array([0]), 1, 9, np.random.RandomState(0))  # a value outside the grid


def test_rejects_arrays_that_are_not_factor_indices():
    with pytest.raises(UserError, match="integer factor indices"):
        factor_rows.FactorRows(np.zeros((4, 2)))
    with pytest.raises(UserError, match=r"\[num_points, num_factors\]"):
        factor_rows.FactorRows(np.zeros(4, dtype=int))
