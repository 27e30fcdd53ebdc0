"""The colour, noise and Scream variants of dSprites, as wrappers over any binary dSprites base.

Each wrapper keeps the base's factors and draws its extra randomness from the same `random_state`, in the
order disentanglement_lib does, so the file-backed and the procedural bases give the same kind of data.
"""
import numpy as np

from dlib_torch.data.ground_truth import ground_truth_data


class _DSpritesWrapper(ground_truth_data.GroundTruthData):
    """Delegates the factor interface to a binary dSprites base; observations become RGB."""

    def __init__(self, base):
        self.base = base

    @property
    def num_factors(self):
        return self.base.num_factors

    @property
    def factors_num_values(self):
        return self.base.factors_num_values

    @property
    def factor_names(self):
        return self.base.factor_names

    @property
    def observation_shape(self):
        return [64, 64, 3]

    def sample_factors(self, num, random_state):
        return self.base.sample_factors(num, random_state)

    def _binary_rgb(self, factors, random_state):
        return np.repeat(self.base.sample_observations_from_factors(factors, random_state), 3, axis=3)


class ColorDSprites(_DSpritesWrapper):
    """The sprite takes a random RGB colour in [0.5, 1]^3 per image; the background stays black."""

    def sample_observations_from_factors(self, factors, random_state):
        observations = self._binary_rgb(factors, random_state)
        color = random_state.uniform(0.5, 1, [observations.shape[0], 1, 1, 3]).astype(np.float32)
        return observations * color


class NoisyDSprites(_DSpritesWrapper):
    """The background is uniform noise per pixel and channel; the sprite stays white."""

    def sample_observations_from_factors(self, factors, random_state):
        observations = self._binary_rgb(factors, random_state)
        noise = random_state.uniform(0, 1, [observations.shape[0], 64, 64, 3]).astype(np.float32)
        return np.minimum(observations + noise, 1.)


class ScreamDSprites(_DSpritesWrapper):
    """The background is a random 64x64 patch of The Scream, colour-shifted; the sprite inverts the patch."""

    def __init__(self, base, scream):
        """`scream` is the painting as a float array [H, W, 3] in [0, 1] (thumbnailed to 350x274)."""
        super().__init__(base)
        self.scream = np.asarray(scream, dtype=np.float32)

    def sample_observations_from_factors(self, factors, random_state):
        observations = self._binary_rgb(factors, random_state)
        for i in range(observations.shape[0]):
            x_crop = random_state.randint(0, self.scream.shape[0] - 64)
            y_crop = random_state.randint(0, self.scream.shape[1] - 64)
            background = (self.scream[x_crop:x_crop + 64, y_crop:y_crop + 64] +
                          random_state.uniform(0, 1, size=3).astype(np.float32)) / 2.
            mask = observations[i] == 1
            background[mask] = 1 - background[mask]
            observations[i] = background
        return observations
