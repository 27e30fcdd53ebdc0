"""Factor logic shared by the dSprites data sets (file-backed and procedural).

The full dSprites grid is color (1) x shape (3) x scale (6) x orientation (40) x posX (32) x posY (32);
by default every factor but color is a latent factor. Factors left out of `latent_factor_indices`
become nuisance factors drawn uniformly per observation, as in disentanglement_lib.
"""
import abc

import numpy as np

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import util

FULL_FACTOR_SIZES = [1, 3, 6, 40, 32, 32]
FULL_FACTOR_NAMES = ["color", "shape", "scale", "orientation", "posX", "posY"]
DEFAULT_LATENT_FACTOR_INDICES = [1, 2, 3, 4, 5]

# Factor values of the published dSprites file (latents_values): shape 1/2/3 = square/ellipse/heart.
SHAPE_NAMES = ["square", "ellipse", "heart"]
SCALE_VALUES = np.linspace(0.5, 1.0, 6)
ORIENTATION_VALUES = np.linspace(0.0, 2.0 * np.pi, 40)  # [0, 2*pi] as in the file: idx 0 and 39 coincide
POSITION_VALUES = np.linspace(0.0, 1.0, 32)


class DSpritesBase(ground_truth_data.PartlyLatentGrid):
    """dSprites factor state space; subclasses say how to turn full factor tuples into binary images."""

    ALL_FACTOR_NAMES = FULL_FACTOR_NAMES

    def __init__(self, latent_factor_indices=None, full_factor_sizes=None):
        """`full_factor_sizes` defaults to the published grid; tests of file-backed data pass smaller grids."""
        if latent_factor_indices is None:
            latent_factor_indices = DEFAULT_LATENT_FACTOR_INDICES
        if full_factor_sizes is None:
            full_factor_sizes = FULL_FACTOR_SIZES
        self.latent_factor_indices = list(latent_factor_indices)
        self.full_factor_sizes = [int(s) for s in full_factor_sizes]
        self.factor_sizes = np.array(self.full_factor_sizes, dtype=np.int64)
        self.factor_bases = util.row_major_bases(self.factor_sizes)
        self.state_space = util.SplitDiscreteStateSpace(self.factor_sizes, self.latent_factor_indices)
        self.data_shape = [64, 64, 1]

    @property
    def observation_shape(self):
        return self.data_shape

    @property
    def observations_are_deterministic(self):
        return all(self.full_factor_sizes[i] == 1 for i in self.state_space.observation_factor_indices)

    def sample_observations_from_factors(self, factors, random_state):
        return self.sample_observations_from_factors_no_color(factors, random_state)

    def sample_observations_from_factors_no_color(self, factors, random_state):
        """Binary sprite images [B, 64, 64, 1] float32 for a batch of latent factors."""
        all_factors = self.state_space.sample_all_factors(factors, random_state)
        return self.images_from_all_factors(all_factors)[..., None]

    @abc.abstractmethod
    def images_from_all_factors(self, all_factors):
        """Binary images [B, 64, 64] float32 for full factor tuples (color, shape, scale, orient, x, y)."""
