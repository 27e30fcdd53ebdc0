"""Tests of dlib_torch/data/ground_truth/factor_sampling.py: 'independent' leaves training draws unchanged bit for
bit, 'correlated' is configured by gin (names or indices), and every bad value is refused in one line."""
import json
import os
import re

import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import correlated_factors
from dlib_torch.data.ground_truth import factor_sampling
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import splits
from dlib_torch.utils import gin_utils
from dlib_torch.utils.errors import ConfigError


@pytest.fixture(autouse=True)
def _clear_gin():
    gin.clear_config()
    yield
    gin.clear_config()


def test_independent_mode_returns_the_data_set_itself_and_its_draws_unchanged():
    gin.bind_parameter("dataset.name", "dsprites_procedural")
    before = splits.apply_held_out_split(named_data.get_named_ground_truth_data())
    expected = before.sample(16, np.random.RandomState(0))
    data = factor_sampling.training_data()
    assert type(data) is type(before)
    factors, observations = data.sample(16, np.random.RandomState(0))
    np.testing.assert_array_equal(factors, expected[0])
    np.testing.assert_array_equal(observations, expected[1])
    assert factor_sampling.apply_factor_sampling(before) is before


def test_correlated_mode_from_gin_wraps_the_held_out_side():
    with gin_utils.configured([], ["dataset.name = 'dsprites_procedural'", "held_out.split = 'shape2tx'",
                                   "factor_sampling.mode = 'correlated'",
                                   "factor_sampling.pairs = [('posX', 'scale'), (0, 4)]",
                                   "factor_sampling.strengths = [0.2, 0.4]", "factor_sampling.directions = [1, -1]"]):
        data = factor_sampling.training_data()
    assert isinstance(data, correlated_factors.CorrelatedFactors)
    assert isinstance(data.base, splits.HeldOutData)
    assert data.pairs == [(3, 1), (0, 4)] and data.sigmas == [0.2, 0.4] and data.directions == [1, -1]
    factors, observations = data.sample(8, np.random.RandomState(0))
    assert data.base.contains(factors).all()
    assert observations.shape == (8, 64, 64, 1)


def test_one_strength_stands_for_every_pair():
    data = factor_sampling.apply_factor_sampling(named_data.get_named_ground_truth_data("dsprites_procedural"),
                                                 mode="correlated", pairs=[(1, 2), (3, 4)], strengths=0.3)
    assert data.sigmas == [0.3, 0.3] and data.directions == [1, 1]


@pytest.mark.parametrize("kwargs, message", [
    (dict(mode="correlate"), r"factor_sampling.mode = 'correlate' is not allowed; it must be one of 'independent', "
                             r"'correlated'"),
    (dict(mode="independent", pairs=[(1, 2)]), r"factor_sampling.pairs = \[\(1, 2\)\] is only used with"),
    (dict(mode="correlated"), r"factor_sampling.pairs = None is not allowed; with mode 'correlated'"),
    (dict(mode="correlated", pairs=[(1, 2, 3)], strengths=[0.2]), r"\(1, 2, 3\) is not a pair"),
    (dict(mode="correlated", pairs=[("posX", "size")], strengths=[0.2]), r"unknown factor 'size'; the data set's "
                                                                          r"factors are shape, scale"),
    (dict(mode="correlated", pairs=[(1, 5)], strengths=[0.2]), r"factor index 5 is out of range; it must be >= 0 "
                                                               r"and <= 4"),
    (dict(mode="correlated", pairs=[(1, 1.5)], strengths=[0.2]), r"1.5 is not a factor"),
    (dict(mode="correlated", pairs=[(2, "orientation")], strengths=[0.2]), r"pairs a factor with itself"),
    (dict(mode="correlated", pairs=[(1, 2), (2, 1)], strengths=[0.2, 0.2]), r"\(2, 1\) is given twice"),
    (dict(mode="correlated", pairs=[(1, 2)], strengths=[0.2, 0.3]), r"factor_sampling.strengths = \[0.2, 0.3\] is "
                                                                    r"not allowed; it must be a list of 1 number"),
    (dict(mode="correlated", pairs=[(1, 2)], strengths=[0.0]), r"factor_sampling.strengths = 0.0 is out of range; "
                                                               r"it must be a number > 0"),
    (dict(mode="correlated", pairs=[(1, 2)], strengths=[float("inf")]), r"factor_sampling.strengths = inf is not a "
                                                                        r"finite number"),
    (dict(mode="correlated", pairs=[(1, 2)], strengths=[0.2], directions=[2]), r"directions: 2 is not allowed; "
                                                                               r"each direction must be 1 or -1"),
])
def test_bad_values_are_refused_in_one_line(kwargs, message):
    data = named_data.get_named_ground_truth_data("dsprites_procedural")
    with pytest.raises(ConfigError) as error:
        factor_sampling.apply_factor_sampling(data, **kwargs)
    first_line = str(error.value).splitlines()[0]  # gin appends the call site on later lines; the CLI drops them
    assert re.search(message, first_line), first_line


def test_a_factor_with_one_value_cannot_be_correlated():
    with pytest.raises(ConfigError, match=r"factor 'a' has a single value and cannot be correlated"):
        factor_sampling.check_pairs([(0, 1)], ["a", "b"], [1, 4])


TINY_TRAINING = [
    "dataset.name = 'dsprites_procedural'", "model.model = @vae()", "vae.beta = 1.",
    "vae_optimizer.optimizer_fn = @AdamOptimizer", "model.batch_size = 4", "model.training_steps = 2",
    "model.eval_steps = 1", "model.random_seed = 0", "encoder.num_latent = 3", "encoder.encoder_fn = @test_encoder",
    "decoder.decoder_fn = @test_decoder", "reconstruction_loss.loss_fn = @bernoulli_loss",
]


def _train_config(model_dir):
    with open(os.path.join(model_dir, "results", "json", "train_config.json")) as f:
        return json.load(f)


def test_the_training_record_holds_the_distribution(tmp_path):
    from dlib_torch.methods.unsupervised import train
    train.train_with_gin(str(tmp_path / "independent"), False, [], TINY_TRAINING)
    config = _train_config(tmp_path / "independent")
    assert config["factor_sampling.mode"] == "'independent'"
    assert config["factor_sampling.pairs"] == "None"
    train.train_with_gin(str(tmp_path / "correlated"), False, [], TINY_TRAINING + [
        "factor_sampling.mode = 'correlated'", "factor_sampling.pairs = [('posX', 'scale')]",
        "factor_sampling.strengths = [0.2]"])
    config = _train_config(tmp_path / "correlated")
    assert config["factor_sampling.mode"] == "'correlated'"
    assert config["factor_sampling.pairs"] == "[('posX', 'scale')]"
    assert config["factor_sampling.strengths"] == "[0.2]"
