import os

import numpy as np
import pytest

from dlib_torch.data.ground_truth import dsprites
from dlib_torch.data.ground_truth import dsprites_variants
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import synthetic_files
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import MissingDataError
from dlib_torch.utils.errors import UserError

GRID = [1, 3, 2, 4, 2, 3]  # color, shape, scale, orientation, posX, posY: a small dSprites grid


@pytest.fixture
def dsprites_images(tmp_path):
    """Writes a small dSprites-format file under $DISENTANGLEMENT_LIB_DATA; returns its images."""
    images = (np.random.RandomState(0).rand(int(np.prod(GRID)), 64, 64) > 0.7).astype(np.uint8)
    path = dsprites.dsprites_path()
    os.makedirs(os.path.dirname(path))
    synthetic_files.write_dsprites_npz(path, GRID, lambda start, stop: images[start:stop])
    return images


def test_observations_are_the_images_at_the_factors_row(dsprites_images):
    data = dsprites.DSprites([1, 2, 3, 4, 5], factor_sizes=GRID)
    assert data.factors_num_values == GRID[1:] and data.observation_shape == [64, 64, 1]
    assert data.factor_names == ["shape", "scale", "orientation", "posX", "posY"]
    assert data.observations_are_deterministic
    factors = data.sample_factors(50, np.random.RandomState(1))
    observations = data.sample_observations_from_factors(factors, np.random.RandomState(2))
    rows = util.factors_to_rows(np.column_stack([np.zeros(50, np.int64), factors]), GRID)
    assert observations.dtype == np.float32 and observations.shape == (50, 64, 64, 1)
    np.testing.assert_array_equal(observations[..., 0], dsprites_images[rows])
    # Row-major: the last factor (posY) moves fastest.
    last_factor_one = data.sample_observations_from_factors(np.array([[0, 0, 0, 0, 1]]), np.random.RandomState(0))
    np.testing.assert_array_equal(last_factor_one[0, ..., 0], dsprites_images[1])


def test_cache_is_bit_packed_and_reused(dsprites_images):
    dsprites.DSprites(factor_sizes=GRID)
    directory = os.path.dirname(dsprites.dsprites_path())
    cache = np.load(os.path.join(directory, "dsprites.images.npy"), mmap_mode="r")
    assert cache.shape == (len(dsprites_images), 64, 8) and cache.dtype == np.uint8
    modified = os.stat(os.path.join(directory, "dsprites.images.npy")).st_mtime_ns
    dsprites.DSprites(factor_sizes=GRID)
    assert os.stat(os.path.join(directory, "dsprites.images.npy")).st_mtime_ns == modified


def test_noshape_draws_shape_as_a_nuisance_factor(dsprites_images):
    data = dsprites.DSprites([2, 3, 4, 5], factor_sizes=GRID)
    assert data.factors_num_values == [2, 4, 2, 3] and not data.observations_are_deterministic
    factors = np.zeros((300, 4), dtype=np.int64)
    observations = data.sample_observations_from_factors(factors, np.random.RandomState(0))[..., 0]
    shape_rows = [util.factors_to_rows([[0, shape, 0, 0, 0, 0]], GRID)[0] for shape in range(3)]
    matches = [np.all(observations == dsprites_images[row], axis=(1, 2)).sum() for row in shape_rows]
    assert sum(matches) == 300 and min(matches) > 50


def test_the_published_grid_is_required_unless_a_test_grid_is_given(dsprites_images):
    with pytest.raises(UserError, match=r"holds a factor grid of \[1, 3, 2, 4, 2, 3\] but data set "
                                        r"'dsprites_full' expects \[1, 3, 6, 40, 32, 32\]"):
        named_data.get_named_ground_truth_data("dsprites_full")


def test_variants_over_the_file(dsprites_images, tmp_path):
    base = dsprites.DSprites(factor_sizes=GRID)
    factors = base.sample_factors(8, np.random.RandomState(0))
    binary = base.sample_observations_from_factors(factors, np.random.RandomState(0))
    color = dsprites_variants.ColorDSprites(base).sample_observations_from_factors(factors, np.random.RandomState(0))
    assert color.shape == (8, 64, 64, 3) and np.all(color[binary[..., 0] == 0] == 0)
    assert not dsprites_variants.ColorDSprites(base).observations_are_deterministic

    abstract = dsprites_variants.AbstractDSprites(dsprites.DSprites([1, 2, 4, 5], factor_sizes=GRID))
    assert abstract.factors_num_values == [5, 6, 3, 2, 2, 3]
    assert abstract.factor_names == ["background_color", "object_color", "shape", "scale", "posX", "posY"]
    assert not abstract.observations_are_deterministic  # orientation is drawn per observation
    abstract_factors = abstract.sample_factors(20, np.random.RandomState(0))
    images = abstract.sample_observations_from_factors(abstract_factors, np.random.RandomState(0))
    masks = abstract.base.sample_observations_from_factors(abstract_factors[:, 2:], np.random.RandomState(0))
    assert images.dtype == np.float32 and images.shape == (20, 64, 64, 3)
    for image, mask, f in zip(images, masks, abstract_factors):
        expected = np.where(mask == 1, dsprites_variants.OBJECT_COLORS[f[1]],
                            dsprites_variants.BACKGROUND_COLORS[f[0]]).astype(np.float32)
        np.testing.assert_array_equal(image, expected)


def test_scream_is_thumbnailed_to_fit_350_by_274(tmp_path):
    os.makedirs(os.path.dirname(dsprites.scream_path()))
    painting = np.random.RandomState(0).randint(0, 256, (600, 480, 3)).astype(np.uint8)  # portrait, as the painting
    synthetic_files.write_jpg(dsprites.scream_path(), painting)
    scream = dsprites.load_scream()
    assert scream.shape == (274, 219, 3) and scream.dtype == np.float32
    assert 0 <= scream.min() and scream.max() <= 1
    data = named_data.get_named_ground_truth_data("scream_dsprites_procedural")
    images = data.sample_observations(4, np.random.RandomState(0))
    assert images.shape == (4, 64, 64, 3) and not data.observations_are_deterministic


def test_missing_files_name_the_file_and_the_download_command():
    root = util.data_root()
    for name in ["dsprites_full", "dsprites_noshape", "color_dsprites", "noisy_dsprites", "scream_dsprites",
                 "abstract_dsprites"]:
        with pytest.raises(MissingDataError) as info:
            named_data.get_named_ground_truth_data(name)
        message = str(info.value)
        assert dsprites.dsprites_path() in message
        assert "`dtl_download --dataset={} --data_dir={}`".format(name, root) in message
    with pytest.raises(MissingDataError, match="scream.jpg.*dtl_download --dataset=scream_dsprites_procedural"):
        named_data.get_named_ground_truth_data("scream_dsprites_procedural")
