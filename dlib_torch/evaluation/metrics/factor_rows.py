"""Interventional sampling over the rows of a factors array, for the metrics computed on your own arrays.

The interventional metrics (BetaVAE, FactorVAE, fairness, strong downstream) sample observations with some
factors fixed or changed. Given codes [N, D] and the factors [N, K] they came from, the same samples are
drawn from the rows instead: uniform rows replace i.i.d. factors, and
- `sample_matching` draws rows whose factor k has given values (the reference's "copy factor k from another
  batch"): exact in distribution when the rows cover the factor grid uniformly (the whole grid, or i.i.d.
  samples of it);
- `counterfactual` finds, for given rows, rows with the same factors except factor k (the reference's
  "set factor k to c and render again"): it needs those combinations among the rows (e.g. the whole grid).
Where several rows share the requested factors, one of them is drawn uniformly.
"""
import numpy as np

from dlib_torch.utils.errors import UserError


class FactorRows:
    """Rows of a factors array [num_points, num_factors], indexed for interventional sampling."""

    def __init__(self, factors):
        factors = np.asarray(factors)
        if factors.ndim != 2 or len(factors) == 0:
            raise UserError("factors must be a non-empty array [num_points, num_factors]; got shape {}".format(
                factors.shape))
        if not np.issubdtype(factors.dtype, np.integer):
            raise UserError("factors must be integer factor indices; got dtype {}".format(factors.dtype))
        self.factors = factors
        self.num_points, self.num_factors = factors.shape
        self._by_factor = [_Groups(factors[:, k]) for k in range(self.num_factors)]
        self._low = factors.min(axis=0)
        self._dims = factors.max(axis=0) - self._low + 1
        self._by_combination = _Groups(self._keys(factors))

    def values(self, factor):
        """The distinct values of `factor`, sorted."""
        return self._by_factor[factor].keys

    def sample(self, num, random_state):
        """`num` rows drawn uniformly with replacement."""
        return random_state.randint(self.num_points, size=num)

    def sample_matching(self, factor, values, random_state):
        """For each entry of `values`, a uniformly drawn row whose `factor` equals it."""
        rows = self._by_factor[factor].draw(np.asarray(values), random_state)
        if np.any(rows < 0):
            missing = np.unique(np.asarray(values)[rows < 0])
            raise UserError("no row has factor {} = {}".format(factor, missing.tolist()))
        return rows

    def counterfactual(self, rows, factor, values, random_state):
        """For each row, a row with the same factors except that `factor` is `values` (scalar or per row)."""
        factors = self.factors[rows].copy()
        factors[:, factor] = values
        found = np.full(len(factors), -1)
        inside = np.all((factors >= self._low) & (factors < self._low + self._dims), axis=1)
        found[inside] = self._by_combination.draw(self._keys(factors[inside]), random_state)
        if np.any(found < 0):
            raise UserError(
                "the factors {} do not occur in the rows; interventional metrics on arrays need the codes of "
                "every combination they intervene on (e.g. of the whole factor grid)".format(
                    factors[np.argmax(found < 0)].tolist()))
        return found

    def _keys(self, factors):
        return np.ravel_multi_index(np.transpose(factors - self._low), self._dims)


class _Groups:
    """Row indices grouped by an integer key, to draw a uniform row of a given key."""

    def __init__(self, row_keys):
        self.order = np.argsort(row_keys, kind="stable")
        self.keys, self.starts, self.counts = np.unique(row_keys[self.order], return_index=True,
                                                        return_counts=True)

    def draw(self, keys, random_state):
        """A uniformly drawn row for each key (-1 where no row has it)."""
        position = np.clip(np.searchsorted(self.keys, keys), 0, len(self.keys) - 1)
        present = self.keys[position] == keys
        rows = np.full(len(keys), -1)
        if np.any(present):
            offsets = random_state.randint(0, self.counts[position[present]])
            rows[present] = self.order[self.starts[position[present]] + offsets]
        return rows
