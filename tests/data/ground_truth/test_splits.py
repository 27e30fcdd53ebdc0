import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import factor_names
from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import splits
from dlib_torch.utils.errors import ConfigError


class GridOnly(ground_truth_data.GroundTruthData):
    """A factor grid without images: split sizes need no image files."""

    def __init__(self, names, sizes):
        self._names, self._sizes = names, sizes

    num_factors = property(lambda self: len(self._sizes))
    factors_num_values = property(lambda self: self._sizes)
    factor_names = property(lambda self: self._names)
    observation_shape = property(lambda self: [1])

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(s, size=num) for s in self._sizes], axis=1)

    def sample_observations_from_factors(self, factors, random_state):
        return factors.astype(np.float32)


DSPRITES = GridOnly(factor_names.DSPRITES, [3, 6, 40, 32, 32])
SHAPES3D = GridOnly(factor_names.SHAPES3D, [10, 10, 10, 8, 4, 15])
MPI3D_REAL = GridOnly(factor_names.MPI3D, [6, 6, 2, 3, 3, 40, 40])


@pytest.mark.parametrize("data, split, train_size, test_size", [
    (DSPRITES, "blank_side", 368640, 368640),
    (DSPRITES, "shape2tx", 614400, 122880),
    (DSPRITES, "leave1out", 737280 - 5808, 5808),
    (SHAPES3D, "fhue_gt50", 240000, 240000),
    (SHAPES3D, "shape2ohue", 420000, 60000),
    (SHAPES3D, "shape2fhue", 420000, 60000),
    (SHAPES3D, "ohue+whue2fhue", 480000 - 28800, 28800),
    (SHAPES3D, "leave1out", 480000 - 72, 72),
    (MPI3D_REAL, "horz_gt20", 518400, 492480),
    (MPI3D_REAL, "objc_gt3", 691200, 345600),
    (MPI3D_REAL, "cyl2horz", 950400, 86400),
    (MPI3D_REAL, "objc2horz", 950400, 86400),
    (MPI3D_REAL, "leave1out", 1036784, 16),
])
def test_held_out_sizes_match_the_paper(data, split, train_size, test_size):
    train, test = splits.held_out_split(data, split)
    assert (train.num_combinations, test.num_combinations) == (train_size, test_size)


def test_conditions_map_to_the_papers_splits():
    for condition, name in [("extrapolation", "blank_side"), ("recombination_to_range", "shape2tx"),
                            ("recombination_to_element", "leave1out"), ("interpolation", "interp_posX")]:
        train, test = splits.held_out_split(DSPRITES, condition)
        assert test.split_name == name
    train, test = splits.held_out_split(DSPRITES, "interpolation")
    assert set(np.unique(test.all_factors()[:, 3])) == set(range(1, 32, 2))
    assert set(np.unique(train.all_factors()[:, 3])) == set(range(0, 32, 2))


def test_leave1out_is_the_ellipse_not_the_square():
    # The shape trap: the paper's code tests class 1 (ellipse) in leave1out and value 1 (square) in shape2tx.
    _, test = splits.held_out_split(DSPRITES, "leave1out")
    assert set(np.unique(test.all_factors()[:, 0])) == {1}
    _, test = splits.held_out_split(DSPRITES, "shape2tx")
    assert set(np.unique(test.all_factors()[:, 0])) == {0}


def test_sampling_stays_on_its_side_and_covers_it():
    data = named_data.get_named_ground_truth_data("dsprites_procedural")
    train, test = splits.held_out_split(data, "leave1out")
    rs = np.random.RandomState(0)
    test_factors = test.sample_factors(20000, rs)
    assert test.contains(test_factors).all() and not train.contains(test_factors).any()
    assert len(np.unique(test_factors, axis=0)) > 5000  # uniform over the 5,808 held-out combinations
    train_factors, observations = train.sample(64, rs)
    assert not test.contains(train_factors).any() and observations.shape == (64, 64, 64, 1)
    assert train.observations_are_deterministic


def test_enumeration_is_complete_and_in_grid_order():
    train, test = splits.held_out_split(MPI3D_REAL, "leave1out")
    factors = test.all_factors()
    assert factors.shape == (16, 7)
    np.testing.assert_array_equal(np.unique(factors[:, 5]), [36, 37, 38, 39])
    batches = list(test.iter_factors(5))
    assert [len(b) for b in batches] == [5, 5, 5, 1]
    np.testing.assert_array_equal(np.concatenate(batches), factors)


def test_extrapolation_leaves_the_boundary_value_out_of_both_sets():
    train, test = splits.held_out_split(MPI3D_REAL, "horz_gt20")
    boundary = np.zeros((1, 7), dtype=np.int64)
    boundary[0, 5] = 20
    assert not train.contains(boundary)[0] and not test.contains(boundary)[0]


def test_user_predicates():
    train, test = splits.held_out_split(DSPRITES, "shape == 0 and posX >= 16")
    assert test.num_combinations == 122880
    _, test = splits.held_out_split(DSPRITES, "shape in [0, 2] and not (posY < 31)")
    assert test.num_combinations == 2 * 6 * 40 * 32
    _, test = splits.held_out_split(DSPRITES, "14 <= orientation <= 25 or scale % 3 == 1")
    assert test.num_combinations == 737280 - (40 - 12) * 4 * 3 * 32 * 32
    train, _ = splits.held_out_split(DSPRITES, "posX > 20", train_predicate="posX < 10")
    assert train.num_combinations == 10 * 3 * 6 * 40 * 32


@pytest.mark.parametrize("predicate, message", [
    ("shap == 0", "unknown factor 'shap'"),
    ("shape = 0", "bad token '='"),
    ("shape == 0 and open('x')", "unsupported token \"open('x')\""),
    ("shape.__class__ == 0", "unsupported token"),
    ("posX >= 'a'", "unsupported token \"'a'\""),
    ("no_such_split", "unknown held-out split 'no_such_split'"),
])
def test_bad_predicates_get_clear_errors(predicate, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        splits.held_out_split(DSPRITES, predicate)


def test_overlapping_train_predicate_is_rejected():
    with pytest.raises(ConfigError, match="overlaps"):
        splits.held_out_split(DSPRITES, "posX > 20", train_predicate="posX > 10")


def test_gin_selects_a_side():
    gin.clear_config()
    try:
        data = named_data.get_named_ground_truth_data("dsprites_procedural")
        assert splits.apply_held_out_split(data) is data
        gin.parse_config(["held_out.split = 'shape2tx'", "held_out.side = 'test'"])
        side = splits.apply_held_out_split(data)
        assert side.num_combinations == 122880 and side.side == "test"
    finally:
        gin.clear_config()
