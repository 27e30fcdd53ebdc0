"""Cars3D from "Deep Visual Analogy-Making" (Reed et al., 2015): renderings of 183 car models.

`cars/*.mat` holds one file per car; its `im` is uint8 [128, 128, 3, 24 azimuths, 4 elevations]. The images
are thumbnailed once to 64x64 into a uint8 cache in row-major order over elevation (4) x azimuth (24) x
object (183).

Deviation from disentanglement_lib: the object id is the index of the file in *sorted* file-name order. The
reference used the unsorted directory listing, so its object ids depended on the filesystem.
"""
import os

import numpy as np
from PIL import Image

from dlib_torch.data.ground_truth import factor_names
from dlib_torch.data.ground_truth import image_grid_data
from dlib_torch.data.ground_truth import image_cache
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import MissingDataError
from dlib_torch.utils.errors import UserError

CARS_DIR = "cars"
PUBLISHED_GRID = [4, 24, 183]  # elevation, azimuth, object
IMAGE_SIZE = 64


def cars_dir(data_dir=None):
    """The directory of the Cars3D .mat files under the data root."""
    return os.path.join(data_dir or util.data_root(), CARS_DIR)


def mat_files(data_dir=None):
    """The Cars3D .mat files, sorted by name (the object ids)."""
    directory = util.require_file(cars_dir(data_dir), "cars3d", data_dir)
    files = sorted(name for name in os.listdir(directory) if name.endswith(".mat"))
    if not files:
        raise MissingDataError("data set 'cars3d' needs the .mat files in {}, which holds none; fetch them "
                               "with `dtl_download --dataset=cars3d --data_dir={}`".format(
                                   directory, data_dir or util.data_root()))
    return [os.path.join(directory, name) for name in files]


def ensure_cache(data_dir=None):
    """Builds the thumbnailed uint8 cache of the Cars3D files if needed; returns (index path, index)."""
    sources = mat_files(data_dir)
    index_path = image_cache.index_path_for(cars_dir(data_dir), "cars3d")
    images_path = os.path.join(cars_dir(data_dir), "cars3d.images.npy")
    index = image_cache.ensure(index_path, sources, lambda: _build_cache(sources, images_path), "cars3d")
    return index_path, index


def load_views(path):
    """The views of one car as uint8 [elevations, azimuths, H, W, 3], from its `im` [H, W, 3, azimuths, elevations]."""
    import scipy.io  # imported here: only this converter needs it
    with util.reading(path, "cars3d", os.path.dirname(os.path.dirname(os.path.abspath(path)))):
        im = scipy.io.loadmat(path)["im"]
    if im.ndim != 5 or im.shape[2] != 3:
        raise UserError("{}: `im` has shape {}, expected [H, W, 3, azimuths, elevations]".format(path, im.shape))
    return np.transpose(im, (4, 3, 0, 1, 2))


def thumbnail(image):
    """Fits a uint8 RGB image into 64x64 with Lanczos, as disentanglement_lib's PIL `thumbnail` did."""
    picture = Image.fromarray(np.ascontiguousarray(image))
    picture.thumbnail((IMAGE_SIZE, IMAGE_SIZE), Image.LANCZOS, reducing_gap=None)
    return np.asarray(picture)


def _build_cache(sources, images_path):
    num_elevations, num_azimuths = load_views(sources[0]).shape[:2]
    grid = [num_elevations, num_azimuths, len(sources)]
    with image_cache.NpyWriter(images_path, (int(np.prod(grid)), IMAGE_SIZE, IMAGE_SIZE, 3)) as writer:
        for car, path in enumerate(sources):
            views = load_views(path)
            if views.shape[:2] != (num_elevations, num_azimuths):
                raise UserError("{}: holds {}x{} views, the other files {}x{}".format(
                    path, views.shape[0], views.shape[1], num_elevations, num_azimuths))
            for elevation in range(num_elevations):
                for azimuth in range(num_azimuths):
                    picture = thumbnail(views[elevation, azimuth])
                    if picture.shape != (IMAGE_SIZE, IMAGE_SIZE, 3):
                        raise UserError("{}: images are not square ({})".format(path, views.shape[2:4]))
                    row = util.factors_to_rows([[elevation, azimuth, car]], grid)[0]
                    writer.write(row, picture[None])
    return {"images": {"file": os.path.basename(images_path), "offset": writer.offset,
                       "num_rows": int(np.prod(grid)), "row_shape": [IMAGE_SIZE, IMAGE_SIZE, 3],
                       "bit_packed": False},
            "factor_sizes": grid}


class Cars3D(image_grid_data.ImageGridData):
    """Cars3D; observations are fixed by the factors.

    Factors: 0 elevation (4), 1 azimuth (24), 2 object type (183, the sorted file order).
    """

    FACTOR_NAMES = factor_names.CARS3D

    def __init__(self, factor_sizes=None, data_dir=None):
        """`factor_sizes`: the grid the files must hold (the published one; tests pass smaller grids)."""
        self._open_checked_grid(factor_sizes or PUBLISHED_GRID, ensure_cache(data_dir), cars_dir(data_dir), "cars3d")
