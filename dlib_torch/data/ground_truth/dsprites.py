"""dSprites from DeepMind's published file (`dsprites_full` and its variants), and The Scream picture.

The file holds 737,280 binary 64x64 images in row-major order over color (1) x shape (3) x scale (6) x
orientation (40) x posX (32) x posY (32). It is converted once into a bit-packed cache beside it (512 bytes an
image, 377 MB); a batch reads its rows from disk, so a data set object holds nothing in memory.
"""
import os

import numpy as np
from PIL import Image

from dlib_torch.data.ground_truth import array_files
from dlib_torch.data.ground_truth import dsprites_base
from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import image_cache
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import UserError

DSPRITES_FILE = os.path.join("dsprites", "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz")
SCREAM_FILE = os.path.join("scream", "scream.jpg")
SCREAM_THUMBNAIL = (350, 274)


def dsprites_path(data_dir=None):
    """Where the reference (and dtl_download) keep the dSprites file under the data root."""
    return os.path.join(data_dir or util.data_root(), DSPRITES_FILE)


def ensure_cache(data_dir=None, dataset_name="dsprites_full"):
    """Builds the bit-packed cache of the dSprites file if needed; returns (index path, index)."""
    path = util.require_file(dsprites_path(data_dir), dataset_name, data_dir)
    directory = os.path.dirname(path)
    index_path = image_cache.index_path_for(directory, "dsprites")
    images_path = os.path.join(directory, "dsprites.images.npy")
    index = image_cache.ensure(index_path, [path], lambda: _build_cache(path, images_path, dataset_name, data_dir),
                               dataset_name)
    return index_path, index


def _build_cache(npz_path, images_path, dataset_name="dsprites_full", data_dir=None):
    """Streams `imgs` out of the compressed file into bit-packed rows (8 pixels a byte).

    The grid comes from `latents_classes` (checked to be row-major), which gives the same sizes as the
    pickled `metadata` the reference read, without unpickling anything from a downloaded file.
    """
    with util.reading(npz_path, dataset_name, data_dir):
        return _convert(npz_path, images_path)


def _convert(npz_path, images_path):
    with np.load(npz_path) as data:
        latents_sizes = util.grid_of_row_major_labels(data["latents_classes"], npz_path)
    with array_files.open_npz_member(npz_path, "imgs") as (f, shape, dtype):
        if dtype != np.uint8 or len(shape) != 3 or shape[0] != int(np.prod(latents_sizes)):
            raise UserError("{}: `imgs` is {} {}, expected uint8 [{}, H, W] (the product of latents_sizes {})"
                            .format(npz_path, dtype, list(shape), int(np.prod(latents_sizes)), latents_sizes))
        with image_cache.NpyWriter(images_path, (shape[0], shape[1], (shape[2] + 7) // 8)) as writer:
            for start, chunk in array_files.iter_row_chunks(f, shape, dtype):
                if chunk.max(initial=0) > 1:
                    raise UserError("{}: `imgs` is not binary (holds the value {})".format(npz_path, chunk.max()))
                writer.write(start, np.packbits(chunk, axis=-1))
    return {"images": {"file": os.path.basename(images_path), "offset": writer.offset, "num_rows": shape[0],
                       "row_shape": list(shape[1:]), "bit_packed": True},
            "factor_sizes": latents_sizes}


class DSprites(dsprites_base.DSpritesBase):
    """dSprites read from the published file (`dsprites_full`, `dsprites_noshape`; base of the variants).

    Factors (default): 0 shape (3), 1 scale (6), 2 orientation (40), 3 posX (32), 4 posY (32); factors left out
    of `latent_factor_indices` are nuisance factors drawn per observation, as in disentanglement_lib.
    """

    def __init__(self, latent_factor_indices=None, factor_sizes=None, data_dir=None, name="dsprites_full"):
        """`factor_sizes` is the full grid the file must hold (default: the published [1, 3, 6, 40, 32, 32]).

        Only tests pass a smaller grid, for small files they write; the registered data sets never do, so a
        file that is not the published one is rejected. `name` is the data set named in error messages.
        """
        super().__init__(latent_factor_indices, factor_sizes)
        index_path, index = ensure_cache(data_dir, name)
        image_cache.require_grid(index, self.full_factor_sizes, dsprites_path(data_dir), name)
        self.images = image_cache.open_images(index_path, index)
        self.data_shape = list(self.images.row_shape) + [1]

    def images_from_all_factors(self, all_factors):
        rows = np.asarray(all_factors, dtype=np.int64) @ self.factor_bases
        return self.images.read(rows).astype(np.float32)

    def image_table(self):
        return ground_truth_data.ImageTable(self.images, 1., channel_axis=True)

    def observation_rows(self, factors, random_state):
        """Rows of the factors completed with uniformly drawn nuisance factors, as the observations draw them."""
        return np.asarray(self.state_space.sample_all_factors(factors, random_state), dtype=np.int64) @ \
            self.factor_bases


def scream_path(data_dir=None):
    """Where the reference (and dtl_download) keep The Scream under the data root."""
    return os.path.join(data_dir or util.data_root(), SCREAM_FILE)


def load_scream(data_dir=None, dataset_name="scream_dsprites"):
    """The Scream as float32 [H, W, 3] in [0, 1], thumbnailed to fit 350x274 as in disentanglement_lib."""
    path = util.require_file(scream_path(data_dir), dataset_name, data_dir)
    with util.reading(path, dataset_name, data_dir), Image.open(path) as picture:
        picture = picture.convert("RGB")
        picture.thumbnail(SCREAM_THUMBNAIL)
        scream = np.asarray(picture, dtype=np.float32) / 255.
    if scream.shape[0] <= 64 or scream.shape[1] <= 64:
        raise UserError("{} is only {}x{} pixels; scream_dsprites crops 64x64 patches from it".format(
            path, scream.shape[1], scream.shape[0]))
    return scream
