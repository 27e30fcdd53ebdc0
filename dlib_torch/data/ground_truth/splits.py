"""Held-out splits of a ground-truth data set (Montero et al., "The Role of Disentanglement in
Generalisation", ICLR 2021): train on some factor combinations, test on the combinations held out.

`held_out_split(data, split)` returns `(train_data, test_data)`, two `HeldOutData` views of the same grid.
`split` is a named split of the data set's family (the paper's, in factor-index form) or a predicate
that selects the held-out combinations, e.g. `"shape == 0 and posX >= 16"` (see `split_predicates`).
"""
import gin
import numpy as np

from dlib_torch.data.ground_truth import factor_names as names
from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import split_predicates
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import ConfigError

# Named splits: family -> split name -> (test predicate, train predicate or None for the complement).
# Factor indices follow the reference files: dSprites shape 0/1/2 = square/ellipse/heart (class order;
# the paper's code tests `value == 1`, which is the square), Shapes3D shape 3 = pill, MPI3D shape 2 =
# cylinder, MPI3D colour 2 = red and 5 = olive.
NAMED_SPLITS = {
    "dsprites": {
        "blank_side": ("posX >= 16", "posX <= 15"),
        "shape2tx": ("shape == 0 and posX >= 16", None),
        "leave1out": ("shape == 1 and scale >= 2 and 14 <= orientation <= 25 and posX >= 21 and posY >= 21",
                      None),
    },
    "shapes3d": {
        "fhue_gt50": ("floor_hue >= 5", None),
        "shape2ohue": ("shape == 3 and object_hue >= 5", None),
        "shape2fhue": ("shape == 3 and floor_hue >= 5", None),
        "ohue+whue2fhue": ("object_hue >= 8 and wall_hue <= 2", None),
        "leave1out": ("object_hue >= 8 and wall_hue >= 8 and floor_hue >= 8 and scale >= 5 and shape == 1 "
                      "and orientation >= 12", None),
    },
    "mpi3d": {
        "horz_gt20": ("horizontal_axis > 20", "horizontal_axis < 20"),  # value 20 is in neither set
        "objc_gt3": ("object_color > 3", "object_color <= 3"),
        "cyl2horz": ("horizontal_axis < 20 and object_shape == 2", None),
        "objc2horz": ("horizontal_axis < 20 and object_color == 2", None),
        "leave1out": ("object_color == 5 and object_shape == 2 and object_size == 1 and camera_height == 1 "
                      "and background_color == 1 and horizontal_axis > 35 and vertical_axis > 35", None),
    },
}

# The paper's four conditions, by family: interpolation holds out every other value of one factor.
CONDITIONS = {
    "dsprites": {"interpolation": "interp_posX", "recombination_to_element": "leave1out",
                 "recombination_to_range": "shape2tx", "extrapolation": "blank_side"},
    "shapes3d": {"interpolation": "interp_object_hue", "recombination_to_element": "leave1out",
                 "recombination_to_range": "shape2ohue", "extrapolation": "fhue_gt50"},
    "mpi3d": {"interpolation": "interp_horizontal_axis", "recombination_to_element": "leave1out",
              "recombination_to_range": "cyl2horz", "extrapolation": "horz_gt20"},
}

_FAMILIES = {tuple(names.DSPRITES): "dsprites", tuple(names.SHAPES3D): "shapes3d", tuple(names.MPI3D): "mpi3d"}


def split_family(data):
    """The family of named splits a data set uses (by its factor names), or None."""
    return _FAMILIES.get(tuple(data.factor_names))


def named_splits(data):
    """Names of the splits `held_out_split` accepts for this data set (besides predicates)."""
    family = split_family(data)
    result = ["interp_" + name for name in data.factor_names]
    if family:
        result += list(NAMED_SPLITS[family]) + list(CONDITIONS[family])
    return sorted(result)


def resolve_split(data, split):
    """Turns a split name or predicate into (test predicate, train predicate or None, name)."""
    family = split_family(data)
    name = CONDITIONS.get(family, {}).get(split, split)
    if family and name in NAMED_SPLITS[family]:
        test, train = NAMED_SPLITS[family][name]
        return test, train, name
    if name.startswith("interp_") and name[len("interp_"):] in data.factor_names:
        return "{} % 2 == 1".format(name[len("interp_"):]), None, name
    if not any(ch in split for ch in "=<>") and " in " not in split:
        raise ConfigError("unknown held-out split {!r} for a data set with factors {}; named splits: {}; or "
                          "give a predicate such as 'shape == 0 and posX >= 16'".format(
                              split, ", ".join(data.factor_names), ", ".join(named_splits(data))))
    return split, None, split


class HeldOutData(ground_truth_data.DataView):
    """One side of a held-out split: the same factor grid, restricted to a set of combinations.

    `sample_factors` draws uniformly over the kept combinations (one `randint` per batch, no loops);
    `all_factors()` and `iter_factors()` enumerate them in grid order.
    """

    def __init__(self, base, mask, split_name, side):
        super().__init__(base)
        self.split_name = split_name
        self.side = side
        self._sizes = [int(s) for s in base.factors_num_values]
        self._mask = mask
        self._rows = np.flatnonzero(mask).astype(np.int64)

    @property
    def mask(self):
        """Boolean array over the row-major factor grid: the combinations on this side."""
        return self._mask

    @property
    def num_combinations(self):
        """Number of factor combinations on this side of the split."""
        return int(self._rows.size)

    def contains(self, factors):
        """Boolean array: which rows of `factors` lie on this side of the split."""
        return self._mask[util.factors_to_rows(factors, self._sizes)]

    def sample_factors(self, num, random_state):
        if self._rows.size == 0:
            raise ConfigError("held-out split {!r} leaves no combinations on its {} side".format(
                self.split_name, self.side))
        return util.rows_to_factors(self._rows[random_state.randint(self._rows.size, size=num)], self._sizes)

    def image_table(self):
        return self.base.image_table()

    def observation_rows(self, factors, random_state):
        return self.base.observation_rows(factors, random_state)

    def all_factors(self):
        """Every combination on this side, [num_combinations, num_factors], in grid order."""
        return util.rows_to_factors(self._rows, self._sizes)

    def iter_factors(self, batch_size):
        """Yields the combinations on this side in grid order, in batches of at most `batch_size`."""
        for start in range(0, self._rows.size, batch_size):
            yield util.rows_to_factors(self._rows[start:start + batch_size], self._sizes)


def held_out_split(data, split, train_predicate=None):
    """Splits `data` into (train_data, test_data).

    Args:
      data: a GroundTruthData.
      split: a named split (`named_splits(data)`; also the paper's condition names `interpolation`,
        `recombination_to_element`, `recombination_to_range`, `extrapolation`) or a predicate string that
        selects the held-out (test) combinations.
      train_predicate: optional predicate for the training combinations; default: the complement of the
        test set (named splits bring their own where the paper's code differs).
    """
    test_text, train_text, name = resolve_split(data, split)
    if train_predicate is not None:
        train_text = train_predicate
    sizes = data.factors_num_values
    test_mask = split_predicates.grid_mask(test_text, data.factor_names, sizes)
    if train_text is None:
        train_mask = ~test_mask
    else:
        train_mask = split_predicates.grid_mask(train_text, data.factor_names, sizes)
        if np.any(train_mask & test_mask):
            raise ConfigError("held-out split {!r}: train predicate {!r} overlaps the held-out set".format(
                name, train_text))
    return HeldOutData(data, train_mask, name, "train"), HeldOutData(data, test_mask, name, "test")


@gin.configurable("held_out", denylist=["data"])
def apply_held_out_split(data, split=None, train_predicate=None, side="train"):
    """Gin entry used by the stages: `held_out.split = 'shape2tx'` restricts `data` to one side of a split.

    With no split (the default), returns `data` unchanged.
    """
    if split is None:
        return data
    if side not in ("train", "test"):
        raise ConfigError("held_out.side must be 'train' or 'test', not {!r}".format(side))
    train_data, test_data = held_out_split(data, split, train_predicate)
    return train_data if side == "train" else test_data
