"""The ground-truth data interface of disentanglement_lib.

A data set has discrete factors of variation, given as integer indices in [0, factors_num_values[i]);
observations are float arrays (NHWC images in [0, 1]).
"""
import abc
import collections

import numpy as np


class ImageTable(collections.namedtuple("ImageTable", ["images", "divisor", "channel_axis"])):
    """Observations that are rows of one uint8 image array, read as `images.read(rows)` (an ImageRows):
    observation = float32(row) / float32(divisor), with a trailing channel axis added when `channel_axis`."""

    def observations(self, rows):
        """The float32 observations of `rows`, exactly as the data set's sample_observations_from_factors."""
        images = self.images.read(rows)
        if self.channel_axis:
            images = images[..., None]
        return images.astype(np.float32) / np.float32(self.divisor)


class GroundTruthData(abc.ABC):
    """A data set whose observations are generated from known, discrete factors."""

    @property
    @abc.abstractmethod
    def num_factors(self):
        """Number of (latent) factors."""

    @property
    @abc.abstractmethod
    def factors_num_values(self):
        """Number of values of each factor, a list of ints."""

    @property
    @abc.abstractmethod
    def observation_shape(self):
        """Shape of one observation, e.g. [64, 64, 1]."""

    @property
    def factor_names(self):
        """Names of the factors in factor order (factor_0, factor_1, ... unless a data set names them)."""
        return ["factor_{}".format(i) for i in range(self.num_factors)]

    @property
    def observations_are_deterministic(self):
        """True when an observation is a fixed function of its factors (no nuisance factors, no noise).

        Then the evaluation may encode each distinct factor combination once and reuse the code.
        """
        return False

    @abc.abstractmethod
    def sample_factors(self, num, random_state):
        """Samples a batch of factors Y: int64 array [num, num_factors]."""

    @abc.abstractmethod
    def sample_observations_from_factors(self, factors, random_state):
        """Samples a batch of observations X [num] + observation_shape given a batch of factors Y."""

    def image_table(self):
        """An ImageTable when every observation is one row of a stored uint8 image array, picked by
        `observation_rows` (training may then hold the whole array on the GPU); None for data sets that render
        or transform their images (the default)."""
        return None

    def observation_rows(self, factors, random_state):
        """The rows of `image_table()` holding the observations of `factors`, drawing from `random_state`
        exactly what sample_observations_from_factors draws (nuisance factors)."""
        raise NotImplementedError("{} has no image table".format(type(self).__name__))

    def sample(self, num, random_state):
        """Samples a batch of factors Y and observations X."""
        factors = self.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(factors, random_state)

    def sample_observations(self, num, random_state):
        """Samples a batch of observations X."""
        return self.sample(num, random_state)[1]


class PartlyLatentGrid(GroundTruthData):
    """A data set over a factor grid of which only the factors `latent_factor_indices` are latent: the others are
    drawn afresh for each observation (smallNORB's instance) or have a single value (dSprites' colour).

    Subclasses set `full_factor_sizes`, `latent_factor_indices`, `state_space` (a util.SplitDiscreteStateSpace)
    and ALL_FACTOR_NAMES (the names of every factor of the grid).
    """

    ALL_FACTOR_NAMES = ()

    @property
    def num_factors(self):
        return len(self.latent_factor_indices)

    @property
    def factors_num_values(self):
        return [self.full_factor_sizes[i] for i in self.latent_factor_indices]

    @property
    def factor_names(self):
        return [self.ALL_FACTOR_NAMES[i] for i in self.latent_factor_indices]

    def sample_factors(self, num, random_state):
        return self.state_space.sample_latent_factors(num, random_state)


class DataView(GroundTruthData):
    """A data set defined on top of another one: delegates the whole interface to `base`.

    Subclasses override what they change (the observations of the dSprites variants, the factor
    combinations of a held-out split).
    """

    def __init__(self, base):
        self.base = base

    def sample_factors(self, num, random_state):
        return self.base.sample_factors(num, random_state)

    def sample_observations_from_factors(self, factors, random_state):
        return self.base.sample_observations_from_factors(factors, random_state)


# The properties of the interface, each `base`'s (a subclass overrides those it changes).
for _name in ("num_factors", "factors_num_values", "factor_names", "observation_shape",
              "observations_are_deterministic"):
    setattr(DataView, _name, property(lambda self, name=_name: getattr(self.base, name)))
del _name


def factor_grid_size(data):
    """Number of distinct factor combinations of a data set."""
    return int(np.prod(np.asarray(data.factors_num_values, dtype=np.int64)))
