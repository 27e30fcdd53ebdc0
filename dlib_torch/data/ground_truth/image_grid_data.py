"""A data set stored as one image per factor combination, in row-major grid order, in an image cache.

Cars3D, MPI3D and Shapes3D are all of this kind: every factor is a latent factor and an observation is
the cached image at the factors' row, read on demand and made float only per batch.
"""
import numpy as np

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import image_cache
from dlib_torch.data.ground_truth import util


class ImageGridData(ground_truth_data.GroundTruthData):
    """Images of a full factor grid; subclasses name the factors and open their cache with `_open_grid`."""

    FACTOR_NAMES = ()

    def _open_checked_grid(self, factor_sizes, cache, source, name):
        """Opens the cache `(index path, index)`, checked to hold the grid `factor_sizes` of the file(s) at
        `source` (data set `name`)."""
        index_path, index = cache
        image_cache.require_grid(index, factor_sizes, source, name)
        self._open_grid(factor_sizes, index_path, index)

    def _open_grid(self, factor_sizes, index_path, index):
        """Uses the cache at `index_path` (already checked against `factor_sizes`) as the grid's images."""
        self.factor_sizes = [int(s) for s in factor_sizes]
        self.factor_bases = util.row_major_bases(self.factor_sizes)
        self.state_space = util.SplitDiscreteStateSpace(self.factor_sizes, range(len(self.factor_sizes)))
        self.images = image_cache.open_images(index_path, index)

    @property
    def num_factors(self):
        return len(self.factor_sizes)

    @property
    def factors_num_values(self):
        return list(self.factor_sizes)

    @property
    def observation_shape(self):
        return list(self.images.row_shape)

    @property
    def factor_names(self):
        return list(self.FACTOR_NAMES)

    @property
    def observations_are_deterministic(self):
        return True

    def sample_factors(self, num, random_state):
        return self.state_space.sample_latent_factors(num, random_state)

    def image_table(self):
        return ground_truth_data.ImageTable(self.images, 255., channel_axis=False)

    def observation_rows(self, factors, random_state):
        del random_state  # every factor is a latent factor: nothing to draw
        return np.asarray(factors, dtype=np.int64) @ self.factor_bases

    def sample_observations_from_factors(self, factors, random_state):
        return self.image_table().observations(self.observation_rows(factors, random_state))
