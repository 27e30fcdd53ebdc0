"""Tests of dlib_torch/data/ground_truth/triplets.py: the invariants of the composition task's triplets."""
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dsprites_procedural
from dlib_torch.data.ground_truth import splits
from dlib_torch.data.ground_truth import triplets
from dlib_torch.utils.errors import ConfigError


@pytest.fixture(scope="module")
def dsprites():
    return dsprites_procedural.ProceduralDSprites()


def _assert_one_factor_changed(t):
    rows = np.arange(len(t.dim))
    differs = t.reference != t.target
    assert differs[rows, t.dim].all()  # the target changes factor `dim` ...
    differs[rows, t.dim] = False
    assert not differs.any()  # ... and nothing else
    assert (t.command[rows, t.dim] == t.target[rows, t.dim]).all()  # the command shows the target's value


@pytest.mark.parametrize("split", ["blank_side", "shape2tx", "leave1out"])
def test_training_triplets_stay_on_the_training_side(dsprites, split):
    train_side, test_side = splits.held_out_split(dsprites, split)
    sampler = triplets.TripletSampler.from_split(dsprites, split)
    t = sampler.training_triplets(4000, np.random.RandomState(0))
    _assert_one_factor_changed(t)
    for factors in (t.reference, t.command, t.target):
        assert train_side.contains(factors).all()
        assert not test_side.contains(factors).any()
    assert set(np.unique(t.dim)) == set(range(5))  # every factor gets changed


@pytest.mark.parametrize("split", ["shape2tx", "leave1out"])
def test_held_out_triplets_have_a_held_out_target_and_training_inputs(dsprites, split):
    train_side, test_side = splits.held_out_split(dsprites, split)
    sampler = triplets.TripletSampler.from_split(dsprites, split)
    t = sampler.held_out_triplets(2000, np.random.RandomState(1))
    _assert_one_factor_changed(t)
    assert test_side.contains(t.target).all()
    assert train_side.contains(t.reference).all() and train_side.contains(t.command).all()


def test_extrapolation_needs_commands_from_anywhere(dsprites):
    sampler = triplets.TripletSampler.from_split(dsprites, "blank_side")
    with pytest.raises(ConfigError, match="held_out_commands = 'any'"):
        sampler.held_out_triplets(10, np.random.RandomState(0), "train")
    train_side, test_side = splits.held_out_split(dsprites, "blank_side")
    t = sampler.held_out_triplets(500, np.random.RandomState(0), "any")
    _assert_one_factor_changed(t)
    assert test_side.contains(t.target).all() and train_side.contains(t.reference).all()
    assert (t.dim == 3).all()  # only posX leads from the left half to the right half


def test_same_seed_same_triplets_and_the_data_view_gives_the_same_sampler(dsprites):
    view, _ = splits.held_out_split(dsprites, "shape2tx")
    a = triplets.TripletSampler.from_split(dsprites, "shape2tx").training_triplets(256, np.random.RandomState(5))
    b = triplets.TripletSampler.from_data(view).training_triplets(256, np.random.RandomState(5))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_without_a_split_every_combination_is_a_training_one(dsprites):
    sampler = triplets.TripletSampler.from_split(dsprites, None)
    _assert_one_factor_changed(sampler.training_triplets(300, np.random.RandomState(0)))
    with pytest.raises(ConfigError, match="held-out split"):
        sampler.held_out_triplets(3, np.random.RandomState(0))


def test_rare_values_are_found_by_enumeration():
    # Training side: factor 1 has value 3 only on the single combination (0, 3); commands must find it.
    sizes = [50, 4]
    mask = np.ones(200, bool).reshape(50, 4)
    mask[1:, 3] = False
    sampler = triplets.TripletSampler(sizes, mask.reshape(-1))
    t = sampler.training_triplets(2000, np.random.RandomState(0))
    _assert_one_factor_changed(t)
    assert mask.reshape(-1)[t.command @ np.array([4, 1])].all()
    needs_rare_value = (t.dim == 1) & (t.target[:, 1] == 3)
    assert needs_rare_value.any() and (t.command[needs_rare_value] == [0, 3]).all()


def test_isolated_training_combinations_are_a_clear_error():
    mask = np.zeros(9, bool)
    mask[[0, 4, 8]] = True  # the diagonal of a 3 x 3 grid: no two training combinations share a factor value
    with pytest.raises(ConfigError, match="no other training combination that differs in one factor"):
        triplets.TripletSampler([3, 3], mask).training_triplets(5, np.random.RandomState(0))


def test_actions_are_one_hot():
    np.testing.assert_array_equal(triplets.action_one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


def test_under_correlated_sampling_references_follow_the_joint_on_the_training_side(dsprites):
    from dlib_torch.data.ground_truth import correlated_factors
    view, _ = splits.held_out_split(dsprites, "shape2tx")
    data = correlated_factors.CorrelatedFactors(view, [(3, 4)], [0.05])
    sampler = triplets.TripletSampler.from_data(data)
    np.testing.assert_array_equal(sampler.train_mask, view.mask)
    t = sampler.training_triplets(2000, np.random.RandomState(0))
    _assert_one_factor_changed(t)
    assert view.contains(t.reference).all() and view.contains(t.target).all()
    assert np.abs(t.reference[:, 3] - t.reference[:, 4]).mean() < 2.0  # uniform positions: 10.7 apart
