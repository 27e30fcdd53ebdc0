"""MPI3D (toy, realistic, real): photographs and renderings of a robot arm, from the NeurIPS 2019 challenge.

Gondal et al., "On the Transfer of Inductive Bias from Simulation to the Real World: a New Disentanglement
Dataset" (https://arxiv.org/abs/1906.03292). Each `<mode>/<mode>.npz` holds `images` uint8 [N, 64, 64, 3] in
row-major order over object colour, object shape, object size, camera height, background colour, first DOF,
second DOF. The grid is inferred from N: the challenge subsets (460,800 images, what the reference used for
toy and realistic) are 4x4x2x3x3x40x40; the public files (1,036,800 images, 12.7 GB) are 6x6x2x3x3x40x40.

An uncompressed .npz (np.savez) is read where it lies; a compressed one is streamed once into a uint8 cache.
"""
import os

import numpy as np

from dlib_torch.data.ground_truth import array_files
from dlib_torch.data.ground_truth import factor_names
from dlib_torch.data.ground_truth import image_grid_data
from dlib_torch.data.ground_truth import image_cache
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import UserError

MODES = ("mpi3d_toy", "mpi3d_realistic", "mpi3d_real")
PUBLISHED_GRIDS = {
    460800: [4, 4, 2, 3, 3, 40, 40],   # the challenge subsets (the reference's mpi3d_toy / mpi3d_realistic)
    1036800: [6, 6, 2, 3, 3, 40, 40],  # the full public files
}


def mpi3d_path(mode, data_dir=None):
    """Where the reference (and dtl_download) keep `mode`'s file under the data root."""
    return os.path.join(data_dir or util.data_root(), mode, mode + ".npz")


def ensure_cache(mode, data_dir=None):
    """Builds the cache index of `mode`'s file if needed (a copy only for compressed files); (index path, index)."""
    path = util.require_file(mpi3d_path(mode, data_dir), mode, data_dir)
    directory = os.path.dirname(path)
    index_path = image_cache.index_path_for(directory, mode)
    images_path = os.path.join(directory, mode + ".images.npy")
    index = image_cache.ensure(index_path, [path], lambda: _build_cache(path, images_path, mode, data_dir), mode)
    return index_path, index


def _build_cache(npz_path, images_path, mode="mpi3d_toy", data_dir=None):
    with util.reading(npz_path, mode, data_dir):
        images = image_cache.images_from_npz(npz_path, "images", images_path)
        shape, _ = array_files.npz_member_shape(npz_path, "images")
    grid = list(shape[:-3]) if len(shape) > 4 else None  # an array shaped like the grid says so itself
    if images["row_shape"][-1] != 3:
        raise UserError("{}: images have {} channels, expected 3".format(npz_path, images["row_shape"][-1]))
    return {"images": images, "factor_sizes": grid}


def published_grid(num_images, path, mode):
    """The factor grid of a published MPI3D file of `num_images` images; a UserError for any other count."""
    if num_images not in PUBLISHED_GRIDS:
        raise UserError("{} holds {:,} images; MPI3D files hold {} (delete it and run `dtl_download --dataset={}`)"
                        .format(path, num_images, " or ".join("{:,}".format(n) for n in PUBLISHED_GRIDS), mode))
    return list(PUBLISHED_GRIDS[num_images])


class MPI3D(image_grid_data.ImageGridData):
    """MPI3D data set `mode` (mpi3d_toy, mpi3d_realistic or mpi3d_real); observations are fixed by the factors.

    Factors: object color, object shape, object size (2), camera height (3), background color (3), first DOF
    (40), second DOF (40); colour and shape have 4 values in the challenge subsets and 6 in the full files.
    """

    FACTOR_NAMES = factor_names.MPI3D

    def __init__(self, mode="mpi3d_toy", factor_sizes=None, data_dir=None):
        """`factor_sizes=None` infers the grid from the number of images (one of `PUBLISHED_GRIDS`).

        Only tests pass a smaller grid, for small files they write; the registered data sets never do.
        """
        if mode not in MODES:
            raise UserError("unknown MPI3D mode '{}'; valid modes: {}".format(mode, ", ".join(MODES)))
        index_path, index = ensure_cache(mode, data_dir)
        path = mpi3d_path(mode, data_dir)
        num_rows = index["images"]["num_rows"]
        if factor_sizes is None:
            factor_sizes = published_grid(num_rows, path, mode)
        self.factor_sizes = [int(s) for s in factor_sizes]
        if index["factor_sizes"] is not None:
            image_cache.require_grid(index, self.factor_sizes, path, mode)
        elif int(np.prod(self.factor_sizes)) != num_rows:
            raise UserError("{} holds {} images, not the {} of the grid {}".format(
                path, num_rows, int(np.prod(self.factor_sizes)), self.factor_sizes))
        self._open_grid(self.factor_sizes, index_path, index)
