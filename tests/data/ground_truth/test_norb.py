import numpy as np
import pytest
from PIL import Image

from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import norb
from dlib_torch.data.ground_truth import synthetic_files
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import MissingDataError
from dlib_torch.utils.errors import UserError

GRID = [2, 3, 2, 3, 2]  # category, instance, elevation, azimuth / 2, lighting (the real one is [5, 10, 9, 18, 6])


@pytest.fixture
def norb_files():
    """Writes small smallNORB files (images in shuffled order, as in the real chunks); returns features, images."""
    rs = np.random.RandomState(0)
    num = int(np.prod(GRID))
    features = util.rows_to_factors(rs.permutation(num), GRID)
    images = rs.randint(0, 256, (num, 2, 96, 96)).astype(np.uint8)
    synthetic_files.write_smallnorb(util.data_root() + "/small_norb", features, lambda a, b: images[a:b], gz=False)
    return features, images


def test_observations_are_the_resized_first_camera_images_of_the_factors(norb_files):
    features, images = norb_files
    data = norb.SmallNORB(factor_sizes=GRID)
    assert data.factors_num_values == [2, 2, 3, 2] and data.observation_shape == [64, 64, 1]
    assert data.factor_names == ["category", "elevation", "azimuth", "lighting"]
    assert not data.observations_are_deterministic  # the instance is drawn per observation
    factors = data.sample_factors(30, np.random.RandomState(1))
    observations = data.sample_observations_from_factors(factors, np.random.RandomState(2))
    assert observations.dtype == np.float32 and observations.shape == (30, 64, 64, 1)
    instances = np.random.RandomState(2).randint(GRID[1], size=30)  # the nuisance draw of the same state
    for observation, latent, instance in zip(observations, factors, instances):
        full = np.insert(latent, 1, instance)
        (source,) = np.flatnonzero(np.all(features == full, axis=1))
        expected = np.asarray(Image.fromarray(images[source, 0].astype(np.int32)).resize((64, 64), Image.LANCZOS))
        np.testing.assert_array_equal(observation[..., 0] * 255, np.clip(expected, 0, 255))


def test_resize_matches_the_reference_int8_call_wherever_it_stays_in_range():
    image = np.random.RandomState(0).randint(0, 256, (96, 96)).astype(np.uint8)
    reference = np.asarray(Image.fromarray(image.view(np.int8)).resize((64, 64), Image.LANCZOS))
    np.testing.assert_array_equal(norb.resize_image(image), np.clip(reference, 0, 255))


def test_files_must_cover_the_grid_once(norb_files):
    features, images = norb_files
    features = features.copy()
    features[0] = features[1]
    synthetic_files.write_smallnorb(util.data_root() + "/small_norb", features, lambda a, b: images[a:b], gz=False)
    with pytest.raises(UserError, match="do not cover the factor grid"):
        norb.SmallNORB(factor_sizes=GRID)


def test_the_published_grid_is_required(norb_files):
    with pytest.raises(UserError, match=r"expects \[5, 10, 9, 18, 6\]"):
        named_data.get_named_ground_truth_data("smallnorb")


def test_missing_files_name_the_download_command():
    with pytest.raises(MissingDataError, match=r"smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat.*"
                                               r"`dtl_download --dataset=smallnorb --data_dir="):
        named_data.get_named_ground_truth_data("smallnorb")
