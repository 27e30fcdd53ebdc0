"""smallNORB (LeCun et al., 2004): photographs of toys, resized to 64x64 as disentanglement_lib uses them.

The training and testing chunks in `small_norb/` are NORB binary matrices: `-dat` uint8 [24300, 2, 96, 96]
(two cameras), `-cat` int32 [24300] (category), `-info` int32 [24300, 4] (instance, elevation, azimuth 0, 2,
..., 34, lighting). Together they cover category (5) x instance (10) x elevation (9) x azimuth (18) x
lighting (6) once. The first camera's images are resized once into a uint8 cache in row-major grid order.
"""
import os

import numpy as np
from PIL import Image

from dlib_torch.data.ground_truth import array_files
from dlib_torch.data.ground_truth import factor_names
from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import image_cache
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import UserError

CHUNKS = ["5x46789x9x18x6x2x96x96-training", "5x01235x9x18x6x2x96x96-testing"]
PUBLISHED_GRID = [5, 10, 9, 18, 6]  # category, instance, elevation, azimuth / 2, lighting
LATENT_FACTOR_INDICES = [0, 2, 3, 4]  # the instance is a nuisance factor
IMAGE_SIZE = 64


def norb_path(chunk, kind, data_dir=None):
    """Path of one (gunzipped) smallNORB file, kind 'dat', 'cat' or 'info', under the data root."""
    return os.path.join(data_dir or util.data_root(), "small_norb", "smallnorb-{}-{}.mat".format(chunk, kind))


def ensure_cache(data_dir=None):
    """Builds the resized uint8 cache of the smallNORB files if needed; returns (index path, index)."""
    sources = [util.require_file(norb_path(chunk, kind, data_dir), "smallnorb", data_dir)
               for chunk in CHUNKS for kind in ("dat", "cat", "info")]
    directory = os.path.dirname(sources[0])
    index_path = image_cache.index_path_for(directory, "smallnorb")
    images_path = os.path.join(directory, "smallnorb.images.npy")
    index = image_cache.ensure(index_path, sources, lambda: _build_cache(data_dir, images_path), "smallnorb")
    return index_path, index


def chunk_features(chunk, data_dir=None):
    """Factor indices [N, 5] (category, instance, elevation, azimuth / 2, lighting) of one chunk's images."""
    category = _read_small_matrix(norb_path(chunk, "cat", data_dir), data_dir).astype(np.int64)
    info = _read_small_matrix(norb_path(chunk, "info", data_dir), data_dir).astype(np.int64)
    features = np.column_stack([category, info])
    features[:, 3] //= 2  # azimuths are 0, 2, ..., 34
    return features


def _read_small_matrix(path, data_dir):
    with util.reading(path, "smallnorb", data_dir):
        return array_files.read_norb_matrix(path)


def resize_image(image):
    """Lanczos resize of a uint8 image to 64x64, as disentanglement_lib did it.

    The reference handed PIL an int8 array, which PIL resizes on 32-bit integers, so Lanczos overshoot is not
    clipped there; we resize the same way and clip to [0, 255] so that observations stay in [0, 1].
    """
    resized = Image.fromarray(image.astype(np.int32)).resize((IMAGE_SIZE, IMAGE_SIZE), Image.LANCZOS)
    return np.clip(np.asarray(resized), 0, 255).astype(np.uint8)


def _build_cache(data_dir, images_path):
    features = [chunk_features(chunk, data_dir) for chunk in CHUNKS]
    all_features = np.concatenate(features)
    if all_features.min() < 0:
        raise UserError("smallNORB -cat/-info files hold negative factor values")
    grid = [int(s) for s in all_features.max(axis=0) + 1]
    rows = [util.factors_to_rows(f, grid) for f in features]
    if all_features.shape[0] != int(np.prod(grid)) or np.unique(np.concatenate(rows)).size != len(all_features):
        raise UserError("smallNORB files in {} do not cover the factor grid {} exactly once".format(
            os.path.dirname(images_path), grid))
    with image_cache.NpyWriter(images_path, (len(all_features), IMAGE_SIZE, IMAGE_SIZE)) as writer:
        for chunk, chunk_rows in zip(CHUNKS, rows):
            path = norb_path(chunk, "dat", data_dir)
            with util.reading(path, "smallnorb", data_dir), array_files.open_norb_matrix(path) as (f, shape, dtype):
                if dtype != np.uint8 or len(shape) != 4 or shape[0] != len(chunk_rows):
                    raise UserError("{}: holds {} {}, expected uint8 [{}, 2, H, W]".format(
                        path, dtype, list(shape), len(chunk_rows)))
                for start, images in array_files.iter_row_chunks(f, shape, dtype):
                    for i, image in enumerate(images[:, 0]):  # the first camera only
                        writer.write(chunk_rows[start + i], resize_image(image)[None])
    return {"images": {"file": os.path.basename(images_path), "offset": writer.offset,
                       "num_rows": len(all_features), "row_shape": [IMAGE_SIZE, IMAGE_SIZE], "bit_packed": False},
            "factor_sizes": grid}


class SmallNORB(ground_truth_data.PartlyLatentGrid):
    """smallNORB; the instance within a category is drawn at random for each observation.

    Factors: 0 category (5), 1 elevation (9), 2 azimuth (18), 3 lighting (6).
    """

    ALL_FACTOR_NAMES = factor_names.SMALLNORB[:1] + ["instance"] + factor_names.SMALLNORB[1:]

    def __init__(self, factor_sizes=None, data_dir=None):
        """`factor_sizes` is the full grid (category, instance, elevation, azimuth, lighting) the files must hold.

        It defaults to the published grid; only tests pass a smaller one, for small files they write.
        """
        self.factor_sizes = self.full_factor_sizes = [int(s) for s in (factor_sizes or PUBLISHED_GRID)]
        index_path, index = ensure_cache(data_dir)
        image_cache.require_grid(index, self.factor_sizes, os.path.dirname(index_path), "smallnorb")
        self.factor_bases = util.row_major_bases(self.factor_sizes)
        self.latent_factor_indices = list(LATENT_FACTOR_INDICES)
        self.state_space = util.SplitDiscreteStateSpace(self.factor_sizes, self.latent_factor_indices)
        self.images = image_cache.open_images(index_path, index)

    @property
    def observation_shape(self):
        return list(self.images.row_shape) + [1]

    def image_table(self):
        return ground_truth_data.ImageTable(self.images, 255., channel_axis=True)

    def observation_rows(self, factors, random_state):
        """Rows of the factors, the instance drawn at random for each (the nuisance factor)."""
        return self.state_space.sample_all_factors(factors, random_state) @ self.factor_bases

    def sample_observations_from_factors(self, factors, random_state):
        return self.image_table().observations(self.observation_rows(factors, random_state))
