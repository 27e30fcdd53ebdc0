"""Correlated factors of variation (Träuble et al., "On Disentangled Representations Learned from Correlated
Data", ICML 2021, https://arxiv.org/abs/2006.07886): training data in which pairs of factors are not independent.

Each correlated pair (i, j) gets a Gaussian band of width `sigma` around a linear relation between the two
factors' normalised indices u = index / (num_values - 1) in [0, 1]:

  direction +1:  p(c_i, c_j) ∝ exp(-(u_i - u_j)^2 / (2 sigma^2))          (u_j grows with u_i)
  direction -1:  p(c_i, c_j) ∝ exp(-(u_i - (1 - u_j))^2 / (2 sigma^2))    (u_j falls as u_i grows)

The joint over all factors is the product of these weights over the pairs, times a uniform distribution over
the factors in no pair; smaller sigma, stronger correlation. This is the distribution of the paper and of Roth et
al.'s public code (facebookresearch/disentangling-correlated-factors, `provide_correlation_sampler`, which weights
every grid point by the product of the pairs' weights). Pairs that share a factor form one connected component
whose joint is tabulated over the component's sub-grid; sampling draws each component from its table by inverse
CDF and each free factor with `randint`, so a batch costs a few array operations.
"""
import numpy as np

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.utils.errors import ConfigError

# Largest sub-grid one connected component of pairs may span (its probability table is held in memory).
MAX_COMPONENT_SIZE = 10_000_000
# Smallest probability mass the correlated joint may put on the combinations a restricted base data set keeps.
MIN_SUPPORT_MASS = 1e-6


def pair_weights(size_i, size_j, sigma, direction=1):
    """Unnormalised weights [size_i, size_j] of the Gaussian band around u_j = u_i (or 1 - u_i for direction -1)."""
    u_i = np.arange(size_i, dtype=np.float64) / (size_i - 1)
    u_j = np.arange(size_j, dtype=np.float64) / (size_j - 1)
    if direction < 0:
        u_j = 1.0 - u_j
    return np.exp(-np.square(u_i[:, None] - u_j[None, :]) / (2.0 * sigma * sigma))


def _components(num_factors, pairs):
    """Connected components of the factor graph whose edges are the pairs: sorted factor lists (pairs only)."""
    parent = list(range(num_factors))

    def root(f):
        while parent[f] != f:
            parent[f] = parent[parent[f]]
            f = parent[f]
        return f

    for i, j in pairs:
        parent[root(i)] = root(j)
    groups = {}
    for i, j in pairs:
        for f in (i, j):
            groups.setdefault(root(f), set()).add(f)
    return sorted(sorted(g) for g in groups.values())


class _Component:
    """The joint of the factors linked by pairs: a normalised table over their sub-grid, sampled by inverse CDF."""

    def __init__(self, factors, sizes, pairs, sigmas, directions):
        self.factors = list(factors)
        self.shape = tuple(int(sizes[f]) for f in self.factors)
        if int(np.prod(self.shape)) > MAX_COMPONENT_SIZE:
            raise ConfigError("factor_sampling.pairs link factors {} whose joint has {} combinations; at most {} "
                              "are allowed in one group of linked pairs".format(
                                  self.factors, int(np.prod(self.shape)), MAX_COMPONENT_SIZE))
        table = np.ones(self.shape, dtype=np.float64)
        position = {f: a for a, f in enumerate(self.factors)}
        for (i, j), sigma, direction in zip(pairs, sigmas, directions):
            if i not in position:
                continue
            view = [1] * len(self.shape)
            view[position[i]], view[position[j]] = sizes[i], sizes[j]
            weights = pair_weights(sizes[i], sizes[j], sigma, direction)
            if position[i] > position[j]:
                weights = weights.T
            table = table * weights.reshape(view)
        self.table = table / table.sum()
        self.cdf = np.cumsum(self.table.ravel())

    def sample(self, num, random_state):
        """Draws `num` joint values: int64 [num, len(factors)]."""
        flat = np.searchsorted(self.cdf, random_state.random_sample(num) * self.cdf[-1], side="right")
        flat = np.minimum(flat, self.cdf.size - 1)
        return np.stack(np.unravel_index(flat, self.shape), axis=1).astype(np.int64)

    def sample_given(self, values, free, random_state):
        """One draw of the factors at positions `free` (of self.factors) given the others' `values`."""
        index = tuple(slice(None) if a in free else int(values[a]) for a in range(len(self.factors)))
        conditional = self.table[index]
        cdf = np.cumsum(conditional.ravel())
        flat = min(int(np.searchsorted(cdf, random_state.random_sample() * cdf[-1], side="right")), cdf.size - 1)
        return np.unravel_index(flat, conditional.shape)

    def probability(self, values):
        """Probabilities of the rows of `values` [N, len(factors)] under the component's joint."""
        return self.table[tuple(values[:, a] for a in range(len(self.factors)))]


class CorrelatedFactors(ground_truth_data.DataView):
    """A data set whose `sample_factors` draws the correlated joint of Träuble et al. (see the module docstring).

    `base` may be any GroundTruthData; when it keeps only some factor combinations (a held-out split's training
    side, anything with `contains`), draws outside them are redrawn, which samples the correlated joint restricted
    to the kept combinations. Observations, image tables and everything else come from `base`.

    Args:
      base: the data set.
      pairs: list of (i, j) factor indices, i != j, each factor with at least two values, no pair repeated.
      sigmas: one positive width per pair.
      directions: one of +1 / -1 per pair (default all +1).
    """

    def __init__(self, base, pairs, sigmas, directions=None):
        super().__init__(base)
        self.pairs = [(int(i), int(j)) for i, j in pairs]
        self.sigmas = [float(s) for s in sigmas]
        self.directions = [1] * len(self.pairs) if directions is None else [int(d) for d in directions]
        self._sizes = [int(s) for s in base.factors_num_values]
        self._components = [_Component(factors, self._sizes, self.pairs, self.sigmas, self.directions)
                            for factors in _components(len(self._sizes), self.pairs)]
        self._component_of = {f: c for c in self._components for f in c.factors}
        self._contains = getattr(base, "contains", None)
        if self._contains is not None and hasattr(base, "all_factors"):
            mass = float(np.sum(self.probability(base.all_factors())))
            if mass < MIN_SUPPORT_MASS:
                raise ConfigError("factor_sampling: the correlated pairs {} put probability {:.3g} on the "
                                  "combinations {} keeps; choose other pairs, larger strengths or another split"
                                  .format(self.pairs, mass, getattr(base, "split_name", type(base).__name__)))

    def describe(self):
        """The distribution in words, e.g. `correlated: (posX, scale) sigma=0.2 +`."""
        names = self.factor_names
        return "correlated: " + ", ".join("({}, {}) sigma={:g} {}".format(names[i], names[j], s, "+" if d > 0 else "-")
                                          for (i, j), s, d in zip(self.pairs, self.sigmas, self.directions))

    def _sample_joint(self, num, random_state):
        factors = np.empty((num, len(self._sizes)), dtype=np.int64)
        done = set()
        for f, size in enumerate(self._sizes):
            component = self._component_of.get(f)
            if component is None:
                factors[:, f] = random_state.randint(size, size=num)
            elif f not in done:
                factors[:, component.factors] = component.sample(num, random_state)
                done.update(component.factors)
        return factors

    def sample_factors(self, num, random_state):
        factors = self._sample_joint(num, random_state)
        if self._contains is None:
            return factors
        outside = np.flatnonzero(~self._contains(factors))
        while outside.size:
            factors[outside] = self._sample_joint(outside.size, random_state)
            outside = outside[~self._contains(factors[outside])]
        return factors

    def resample_factors(self, factors, indices, random_state):
        """`factors` [1, F] with the factors at `indices` drawn anew from the correlated joint given the others.

        The weakly-supervised pairs of Träuble et al.: the second observation shares all but the changed factors
        and stays in the correlated distribution (as Roth et al.'s `PairedDataset` with correlation weights).
        """
        row = np.array(factors, dtype=np.int64, copy=True).reshape(1, -1)
        indices = [int(i) for i in indices]
        for f in indices:
            if f not in self._component_of:
                row[0, f] = random_state.randint(self._sizes[f])
        for component in self._components:
            free = [a for a, f in enumerate(component.factors) if f in indices]
            if free:
                drawn = component.sample_given(row[0, component.factors], free, random_state)
                for a, value in zip(free, drawn):
                    row[0, component.factors[a]] = value
        return row

    def probability(self, factors):
        """Probability of each row of `factors` [N, F] under the (unrestricted) correlated joint."""
        factors = np.asarray(factors, dtype=np.int64)
        result = np.ones(len(factors), dtype=np.float64)
        for f, size in enumerate(self._sizes):
            if f not in self._component_of:
                result /= size
        for component in self._components:
            result *= component.probability(factors[:, component.factors])
        return result

    def pair_joint(self, i, j):
        """The configured joint of factors i and j, [n_i, n_j], summing out the rest (before any restriction)."""
        ci, cj = self._component_of.get(i), self._component_of.get(j)
        if ci is not None and ci is cj:
            a, b = ci.factors.index(i), ci.factors.index(j)
            joint = ci.table.sum(axis=tuple(k for k in range(len(ci.factors)) if k not in (a, b)))
            return joint if a < b else joint.T
        marginal_i = self._marginal(i)
        marginal_j = self._marginal(j)
        return marginal_i[:, None] * marginal_j[None, :]

    def _marginal(self, f):
        component = self._component_of.get(f)
        if component is None:
            return np.full(self._sizes[f], 1.0 / self._sizes[f])
        a = component.factors.index(f)
        return component.table.sum(axis=tuple(k for k in range(len(component.factors)) if k != a))

    def image_table(self):
        return self.base.image_table()

    def observation_rows(self, factors, random_state):
        return self.base.observation_rows(factors, random_state)
