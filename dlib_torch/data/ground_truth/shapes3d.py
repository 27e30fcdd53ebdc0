"""Shapes3D (3dshapes) from "Disentangling by Factorising" (Kim & Mnih, 2018).

DeepMind's public `3dshapes/3dshapes.h5` holds `images` uint8 [480000, 64, 64, 3] and `labels` float64
[480000, 6] (factor values) in row-major order over floor hue (10), wall hue (10), object hue (10), scale (8),
shape (4), orientation (15). disentanglement_lib read an unreleased .npz of the same data
(`3dshapes/look-at-object-room_...view-azi.npz`, `images` shaped like the grid); either file is accepted.
The images are streamed once into a uint8 cache; the labels are checked to be in row-major factor order.
"""
import os

import numpy as np

from dlib_torch.data.ground_truth import array_files
from dlib_torch.data.ground_truth import factor_names
from dlib_torch.data.ground_truth import image_grid_data
from dlib_torch.data.ground_truth import image_cache
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import UserError

H5_FILE = os.path.join("3dshapes", "3dshapes.h5")
NPZ_FILE = os.path.join("3dshapes", "look-at-object-room_floor-hueXwall-hueXobj-hueXobj-sizeXobj-shapeXview-azi.npz")
PUBLISHED_GRID = [10, 10, 10, 8, 4, 15]


def shapes3d_path(data_dir=None):
    """The Shapes3D file under the data root: DeepMind's .h5 if present, else the reference's .npz name.

    When neither exists this is the .h5 path, the file that `dtl_download --dataset=shapes3d` fetches.
    """
    root = data_dir or util.data_root()
    h5_path, npz_path = os.path.join(root, H5_FILE), os.path.join(root, NPZ_FILE)
    return npz_path if os.path.exists(npz_path) and not os.path.exists(h5_path) else h5_path


def ensure_cache(data_dir=None):
    """Builds the uint8 cache of the Shapes3D file if needed; returns (index path, index)."""
    path = util.require_file(shapes3d_path(data_dir), "shapes3d", data_dir)
    directory = os.path.dirname(path)
    index_path = image_cache.index_path_for(directory, "shapes3d")
    images_path = os.path.join(directory, "shapes3d.images.npy")
    build = _build_from_npz if path.endswith(".npz") else _build_from_h5
    def read():
        with util.reading(path, "shapes3d", data_dir):
            return build(path, images_path)

    index = image_cache.ensure(index_path, [path], read, "shapes3d")
    return index_path, index


def _build_from_h5(h5_path, images_path):
    import h5py  # imported here: only this converter needs it
    with h5py.File(h5_path, "r") as f:
        images = f["images"]
        if images.dtype != np.uint8 or images.ndim != 4:
            raise UserError("{}: `images` is {} {}, expected uint8 [N, 64, 64, 3]".format(
                h5_path, images.dtype, list(images.shape)))
        grid = util.grid_of_row_major_labels(f["labels"][()], h5_path)
        rows_per_chunk = max(1, array_files.CHUNK_BYTES // int(np.prod(images.shape[1:])))
        with image_cache.NpyWriter(images_path, images.shape) as writer:
            for start in range(0, images.shape[0], rows_per_chunk):
                writer.write(start, images[start:start + rows_per_chunk])
    return {"images": {"file": os.path.basename(images_path), "offset": writer.offset,
                       "num_rows": int(images.shape[0]), "row_shape": list(images.shape[1:]),
                       "bit_packed": False},
            "factor_sizes": grid}


def _build_from_npz(npz_path, images_path):
    images = image_cache.images_from_npz(npz_path, "images", images_path)
    shape, _ = array_files.npz_member_shape(npz_path, "images")
    if len(shape) > 4:
        grid = list(shape[:-3])  # disentanglement_lib's file: images shaped like the factor grid
    else:
        with np.load(npz_path) as data:
            grid = util.grid_of_row_major_labels(data["labels"].reshape(-1, data["labels"].shape[-1]), npz_path)
    return {"images": images, "factor_sizes": grid}


class Shapes3D(image_grid_data.ImageGridData):
    """Shapes3D; observations are fixed by the factors.

    Factors: 0 floor hue (10), 1 wall hue (10), 2 object hue (10), 3 scale (8), 4 shape (4), 5 orientation (15).
    """

    FACTOR_NAMES = factor_names.SHAPES3D

    def __init__(self, factor_sizes=None, data_dir=None):
        """`factor_sizes`: the grid the file must hold (the published one; tests pass smaller grids)."""
        self._open_checked_grid(factor_sizes or PUBLISHED_GRID, ensure_cache(data_dir), shapes3d_path(data_dir), "shapes3d")
