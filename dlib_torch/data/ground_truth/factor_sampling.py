"""How training draws factor combinations: the gin configurable `factor_sampling`, next to `held_out`.

  factor_sampling.mode = 'independent'   every factor uniform and independent (disentanglement_lib; the default)
  factor_sampling.mode = 'correlated'    pairs of factors correlated as in Träuble et al. (correlated_factors.py):
  factor_sampling.pairs = [('posX', 'scale')]       factor names or indices
  factor_sampling.strengths = [0.2]                  sigma of each pair's Gaussian band (smaller: stronger)
  factor_sampling.directions = [1]                   optional, +1 (u_j ~ u_i) or -1 (u_j ~ 1 - u_i) per pair

`training_data()` is the data set every trainer samples from: `dataset.name`, restricted by `held_out.split`,
drawn as `factor_sampling` says. Evaluation builds its data without it, so metrics sample factors independently,
as Träuble et al. evaluate.
"""
import numbers

import gin

from dlib_torch.data.ground_truth import correlated_factors
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import splits
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError

MODES = ("independent", "correlated")


def training_data():
    """The data set training samples from: `dataset.name`, the kept side of `held_out.split`, `factor_sampling`."""
    return apply_factor_sampling(splits.apply_held_out_split(named_data.get_named_ground_truth_data()))


@gin.configurable("factor_sampling", denylist=["data"])
def apply_factor_sampling(data, mode="independent", pairs=None, strengths=None, directions=None):
    """Returns `data` itself for mode 'independent' (draws unchanged, bit for bit), else a CorrelatedFactors view.

    Args:
      data: a GroundTruthData (a held-out split's side included).
      mode: 'independent' or 'correlated'.
      pairs: list of (factor, factor) pairs, each a factor name of `data` or an index.
      strengths: the sigma of each pair (a list as long as `pairs`, or one number for all), each > 0.
      directions: +1 or -1 per pair (default all +1).
    """
    validation.check_choice("factor_sampling.mode", mode, MODES)
    if mode == "independent":
        for name, value in (("pairs", pairs), ("strengths", strengths), ("directions", directions)):
            if value:
                raise ConfigError("factor_sampling.{} = {!r} is only used with factor_sampling.mode = 'correlated', "
                                  "not 'independent'; remove it or set the mode".format(name, value))
        return data
    pairs = check_pairs(pairs, data.factor_names, data.factors_num_values)
    sigmas = check_strengths(strengths, len(pairs))
    directions = check_directions(directions, len(pairs))
    return correlated_factors.CorrelatedFactors(data, pairs, sigmas, directions)


def check_pairs(pairs, factor_names, factors_num_values):
    """The pairs as index tuples; a one-line ConfigError names a malformed, unknown, constant or repeated factor."""
    if not isinstance(pairs, (list, tuple)) or not pairs:
        raise ConfigError("factor_sampling.pairs = {!r} is not allowed; with mode 'correlated' it must be a non-empty "
                          "list of factor pairs such as [('posX', 'scale')] or [(4, 2)]".format(pairs))
    result, seen = [], set()
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ConfigError("factor_sampling.pairs: {!r} is not a pair; each entry must be two factors, e.g. "
                              "('posX', 'scale')".format(pair))
        i, j = (_factor_index(f, factor_names, factors_num_values) for f in pair)
        if i == j:
            raise ConfigError("factor_sampling.pairs: {!r} pairs a factor with itself; the two factors must "
                              "differ".format(pair))
        if frozenset((i, j)) in seen:
            raise ConfigError("factor_sampling.pairs: {!r} is given twice; each pair may appear once".format(pair))
        seen.add(frozenset((i, j)))
        result.append((i, j))
    return result


def _factor_index(factor, factor_names, factors_num_values):
    names = list(factor_names)
    if isinstance(factor, str):
        if factor not in names:
            raise ConfigError("factor_sampling.pairs: unknown factor {!r}; the data set's factors are {}".format(
                factor, ", ".join(names)))
        index = names.index(factor)
    elif isinstance(factor, numbers.Integral) and not isinstance(factor, bool):
        if not 0 <= factor < len(names):
            raise ConfigError("factor_sampling.pairs: factor index {} is out of range; it must be >= 0 and <= {} "
                              "({})".format(factor, len(names) - 1, ", ".join(names)))
        index = int(factor)
    else:
        raise ConfigError("factor_sampling.pairs: {!r} is not a factor; give a factor name ({}) or an index".format(
            factor, ", ".join(names)))
    if int(factors_num_values[index]) < 2:
        raise ConfigError("factor_sampling.pairs: factor {!r} has a single value and cannot be correlated".format(
            names[index]))
    return index


def check_strengths(strengths, num_pairs):
    """One sigma per pair, each a finite number > 0 (one number stands for every pair)."""
    if isinstance(strengths, numbers.Real) and not isinstance(strengths, bool):
        strengths = [strengths] * num_pairs
    if not isinstance(strengths, (list, tuple)) or len(strengths) != num_pairs:
        raise ConfigError("factor_sampling.strengths = {!r} is not allowed; it must be a list of {} number(s) > 0, "
                          "one sigma per pair (e.g. [0.2])".format(strengths, num_pairs))
    return [validation.check_float("factor_sampling.strengths", s, minimum=0, minimum_inclusive=False)
            for s in strengths]


def check_directions(directions, num_pairs):
    """One direction per pair, +1 or -1 (default all +1)."""
    if directions is None:
        return [1] * num_pairs
    if not isinstance(directions, (list, tuple)) or len(directions) != num_pairs:
        raise ConfigError("factor_sampling.directions = {!r} is not allowed; it must be a list of {} value(s), "
                          "each 1 or -1".format(directions, num_pairs))
    for d in directions:
        if isinstance(d, bool) or d not in (1, -1):
            raise ConfigError("factor_sampling.directions: {!r} is not allowed; each direction must be 1 or "
                              "-1".format(d))
    return [int(d) for d in directions]
