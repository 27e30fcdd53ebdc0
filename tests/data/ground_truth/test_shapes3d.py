import os

import numpy as np
import pytest

from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import shapes3d
from dlib_torch.data.ground_truth import synthetic_files
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import MissingDataError
from dlib_torch.utils.errors import UserError

GRID = [2, 3, 2, 2, 2, 3]  # a small Shapes3D grid (the real one is [10, 10, 10, 8, 4, 15])


def _images(seed=0):
    return np.random.RandomState(seed).randint(0, 256, (int(np.prod(GRID)), 64, 64, 3)).astype(np.uint8)


def _check_rows(data, images):
    factors = data.sample_factors(40, np.random.RandomState(1))
    observations = data.sample_observations_from_factors(factors, np.random.RandomState(2))
    assert observations.dtype == np.float32 and observations.shape == (40, 64, 64, 3)
    np.testing.assert_array_equal(observations, images[util.factors_to_rows(factors, GRID)] / np.float32(255))


def test_h5_observations_are_the_images_at_the_factors_row():
    images = _images()
    os.makedirs(os.path.join(util.data_root(), "3dshapes"))
    synthetic_files.write_shapes3d_h5(os.path.join(util.data_root(), shapes3d.H5_FILE), GRID,
                                      lambda start, stop: images[start:stop])
    data = shapes3d.Shapes3D(factor_sizes=GRID)
    assert data.factors_num_values == GRID and data.observation_shape == [64, 64, 3]
    assert data.factor_names == ["floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation"]
    assert data.observations_are_deterministic
    _check_rows(data, images)
    with pytest.raises(UserError, match=r"expects \[10, 10, 10, 8, 4, 15\]"):
        named_data.get_named_ground_truth_data("shapes3d")


def test_the_reference_npz_with_grid_shaped_images_is_accepted():
    images = _images(1)
    os.makedirs(os.path.join(util.data_root(), "3dshapes"))
    labels = util.rows_to_factors(np.arange(len(images)), GRID).astype(np.float64)
    np.savez(os.path.join(util.data_root(), shapes3d.NPZ_FILE),
             images=images.reshape(GRID + [64, 64, 3]), labels=labels.reshape(GRID + [6]))
    _check_rows(shapes3d.Shapes3D(factor_sizes=GRID), images)


def test_labels_out_of_row_major_order_are_rejected(tmp_path):
    import h5py
    os.makedirs(os.path.join(util.data_root(), "3dshapes"))
    labels = util.rows_to_factors(np.arange(int(np.prod(GRID))), GRID).astype(np.float64)
    with h5py.File(os.path.join(util.data_root(), shapes3d.H5_FILE), "w") as f:
        f["images"] = _images()
        f["labels"] = labels[::-1]
    with pytest.raises(UserError, match="labels are not in row-major order"):
        shapes3d.Shapes3D(factor_sizes=GRID)


def test_missing_file_names_the_h5_and_the_download_command():
    with pytest.raises(MissingDataError, match=r"3dshapes/3dshapes.h5, which does not exist.*"
                                               r"`dtl_download --dataset=shapes3d --data_dir="):
        named_data.get_named_ground_truth_data("shapes3d")
