import os

import numpy as np
import pytest

from dlib_torch.data.ground_truth import mpi3d
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import synthetic_files
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import MissingDataError
from dlib_torch.utils.errors import UserError

GRID = [2, 3, 2, 1, 2, 3, 2]  # a small MPI3D grid (the real one is [6, 6, 2, 3, 3, 40, 40])


def _write(mode, compress, seed=0):
    images = np.random.RandomState(seed).randint(0, 256, (int(np.prod(GRID)), 64, 64, 3)).astype(np.uint8)
    path = mpi3d.mpi3d_path(mode)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    synthetic_files.write_mpi3d_npz(path, len(images), lambda start, stop: images[start:stop], compress)
    return images


@pytest.mark.parametrize("compress", [True, False])
def test_observations_are_the_images_at_the_factors_row(compress):
    images = _write("mpi3d_real", compress)
    data = mpi3d.MPI3D("mpi3d_real", factor_sizes=GRID)
    assert data.factors_num_values == GRID and data.observation_shape == [64, 64, 3]
    assert data.factor_names == ["object_color", "object_shape", "object_size", "camera_height",
                                 "background_color", "horizontal_axis", "vertical_axis"]
    assert data.observations_are_deterministic
    factors = data.sample_factors(40, np.random.RandomState(1))
    observations = data.sample_observations_from_factors(factors, np.random.RandomState(2))
    assert observations.dtype == np.float32 and observations.shape == (40, 64, 64, 3)
    np.testing.assert_array_equal(observations, images[util.factors_to_rows(factors, GRID)] / np.float32(255))
    np.testing.assert_array_equal(data.sample_observations_from_factors([[0, 0, 0, 0, 0, 1, 0]], None)[0] * 255,
                                  images[2])  # row-major: the last factor moves fastest


def test_uncompressed_files_are_read_in_place_and_compressed_ones_converted():
    _write("mpi3d_toy", compress=False)
    assert mpi3d.MPI3D("mpi3d_toy", factor_sizes=GRID).images.path == mpi3d.mpi3d_path("mpi3d_toy")
    assert not os.path.exists(os.path.join(os.path.dirname(mpi3d.mpi3d_path("mpi3d_toy")), "mpi3d_toy.images.npy"))
    images = _write("mpi3d_toy", compress=True, seed=1)  # a new download replaces the old file
    data = mpi3d.MPI3D("mpi3d_toy", factor_sizes=GRID)
    assert data.images.path.endswith("mpi3d_toy.images.npy")
    np.testing.assert_array_equal(data.sample_observations_from_factors([[1] * 7], None)[0] * 255,
                                  images[util.factors_to_rows([[1] * 7], GRID)[0]])


def test_the_grid_is_inferred_from_the_number_of_images():
    assert mpi3d.published_grid(460800, "f.npz", "mpi3d_toy") == [4, 4, 2, 3, 3, 40, 40]
    assert mpi3d.published_grid(1036800, "f.npz", "mpi3d_real") == [6, 6, 2, 3, 3, 40, 40]
    _write("mpi3d_realistic", compress=True)
    with pytest.raises(UserError, match=r"holds 144 images; MPI3D files hold 460,800 or 1,036,800 .*"
                                        r"dtl_download --dataset=mpi3d_realistic"):
        named_data.get_named_ground_truth_data("mpi3d_realistic")
    with pytest.raises(UserError, match="holds 144 images, not the 288 of the grid"):
        mpi3d.MPI3D("mpi3d_realistic", factor_sizes=[4, 3, 2, 1, 2, 3, 2])


def test_missing_file_names_the_download_command():
    for mode in mpi3d.MODES:
        with pytest.raises(MissingDataError, match=r"{}.npz.*`dtl_download --dataset={} --data_dir=".format(
                mode, mode)):
            named_data.get_named_ground_truth_data(mode)
