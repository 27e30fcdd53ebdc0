import os

import numpy as np
import pytest
import scipy.io

from dlib_torch.data.ground_truth import cars3d
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import MissingDataError
from dlib_torch.utils.errors import UserError

NAMES = ["car_007_mesh", "car_002_mesh", "car_010_mesh"]  # written in unsorted order


@pytest.fixture
def car_views():
    """Writes three small cars (`im` [64, 64, 3, 5 azimuths, 2 elevations]); returns name -> im."""
    rs = np.random.RandomState(0)
    os.makedirs(cars3d.cars_dir())
    views = {}
    for name in NAMES:
        views[name] = rs.randint(0, 256, (64, 64, 3, 5, 2)).astype(np.uint8)
        scipy.io.savemat(os.path.join(cars3d.cars_dir(), name + ".mat"), {"im": views[name]})
    return views


def test_observations_are_the_views_of_the_factors_with_sorted_object_ids(car_views):
    data = cars3d.Cars3D(factor_sizes=[2, 5, 3])
    assert data.factors_num_values == [2, 5, 3] and data.observation_shape == [64, 64, 3]
    assert data.factor_names == ["elevation", "azimuth", "object_type"]
    assert data.observations_are_deterministic
    factors = data.sample_factors(30, np.random.RandomState(1))
    observations = data.sample_observations_from_factors(factors, np.random.RandomState(2))
    assert observations.dtype == np.float32 and observations.shape == (30, 64, 64, 3)
    for observation, (elevation, azimuth, car) in zip(observations, factors):
        im = car_views[sorted(NAMES)[car]]
        np.testing.assert_array_equal(observation * 255, im[:, :, :, azimuth, elevation])


def test_large_views_are_thumbnailed_to_64(tmp_path):
    os.makedirs(cars3d.cars_dir())
    im = np.zeros((128, 128, 3, 1, 1), dtype=np.uint8)
    im[:64, :, 0] = 255  # top half red
    scipy.io.savemat(os.path.join(cars3d.cars_dir(), "car_001_mesh.mat"), {"im": im})
    image = cars3d.Cars3D(factor_sizes=[1, 1, 1]).sample_observations_from_factors([[0, 0, 0]], None)[0]
    assert image.shape == (64, 64, 3)
    assert np.all(image[:28, :, 0] == 1) and np.all(image[36:, :, 0] == 0)  # Lanczos rings near the edge
    assert np.all(image[..., 1:] == 0)


def test_the_published_grid_is_required(car_views):
    with pytest.raises(UserError, match=r"holds a factor grid of \[2, 5, 3\] but data set 'cars3d' expects "
                                        r"\[4, 24, 183\]"):
        named_data.get_named_ground_truth_data("cars3d")


def test_missing_files_name_the_download_command():
    with pytest.raises(MissingDataError, match=r"/cars, which does not exist.*`dtl_download --dataset=cars3d"):
        named_data.get_named_ground_truth_data("cars3d")
    os.makedirs(cars3d.cars_dir())
    with pytest.raises(MissingDataError, match=r"holds none.*`dtl_download --dataset=cars3d --data_dir={}`".format(
            util.data_root())):
        named_data.get_named_ground_truth_data("cars3d")
