import numpy as np
import pytest

from dlib_torch.data.ground_truth import dsprites_procedural
from dlib_torch.data.ground_truth import named_data


@pytest.fixture(scope="module")
def data():
    return named_data.get_named_ground_truth_data("dsprites_procedural")


def _render(data, shape, scale, orientation, x, y):
    return data.images_from_all_factors(np.array([[0, shape, scale, orientation, x, y]]))[0]


def _centroid(image):
    ys, xs = np.nonzero(image)
    return np.array([xs.mean(), ys.mean()])


def test_factor_grid_is_the_dsprites_grid(data):
    assert data.factors_num_values == [3, 6, 40, 32, 32]
    assert data.factor_names == ["shape", "scale", "orientation", "posX", "posY"]
    assert data.observation_shape == [64, 64, 1]
    assert data.observations_are_deterministic
    noshape = named_data.get_named_ground_truth_data("dsprites_procedural_noshape")
    assert noshape.factors_num_values == [6, 40, 32, 32] and not noshape.observations_are_deterministic


def test_observations_are_binary_deterministic_float32(data):
    factors = data.sample_factors(50, np.random.RandomState(1))
    first = data.sample_observations_from_factors(factors, np.random.RandomState(2))
    second = data.sample_observations_from_factors(factors, np.random.RandomState(3))
    assert first.shape == (50, 64, 64, 1) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    assert set(np.unique(first)) == {0.0, 1.0}
    assert (first.reshape(50, -1).sum(axis=1) > 10).all()  # every image shows a sprite


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_sprites_stay_fully_visible_at_every_corner_and_rotation(data, shape):
    for orientation in range(0, 40, 3):
        for x, y in [(0, 0), (31, 0), (0, 31), (31, 31)]:
            image = _render(data, shape, 5, orientation, x, y)
            assert image[0].sum() == image[-1].sum() == image[:, 0].sum() == image[:, -1].sum() == 0


def test_the_render_window_never_clips_a_sprite():
    # Rendering every pixel of the canvas gives the same image as the windowed renderer.
    rs = np.random.RandomState(0)
    n = 300
    shape = rs.randint(3, size=n)
    scale = np.where(rs.rand(n) < 0.5, 1.0, rs.uniform(0.5, 1.0, n))
    orientation = rs.uniform(0, 2 * np.pi, n)
    pos_x = np.where(rs.rand(n) < 0.5, rs.randint(2, size=n), rs.rand(n))
    pos_y = np.where(rs.rand(n) < 0.5, rs.randint(2, size=n), rs.rand(n))
    windowed = dsprites_procedural.render_sprites(shape, scale, orientation, pos_x, pos_y)
    centres = np.arange(64) + 0.5
    for i in range(n):
        cx = dsprites_procedural.CENTRE_MIN + dsprites_procedural.CENTRE_SPAN * pos_x[i]
        cy = dsprites_procedural.CENTRE_MIN + dsprites_procedural.CENTRE_SPAN * pos_y[i]
        radius = dsprites_procedural.MAX_RADIUS_PX * scale[i]
        dx = (centres[None, :] - cx) / radius
        dy_up = (cy - centres[:, None]) / radius
        c, s = np.cos(orientation[i]), np.sin(orientation[i])
        full = dsprites_procedural._INSIDE[shape[i]](c * dx + s * dy_up, -s * dx + c * dy_up)
        assert (full != windowed[i].astype(bool)).sum() <= 2  # float32 vs float64 at the outline


def test_positions_span_the_frame_monotonically(data):
    xs = [_centroid(_render(data, 0, 2, 0, x, 10))[0] for x in range(32)]
    ys = [_centroid(_render(data, 0, 2, 0, 10, y))[1] for y in range(32)]
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) > 0)  # posX moves right, posY moves down
    assert xs[-1] - xs[0] > 30 and ys[-1] - ys[0] > 30


def test_rotation_is_about_the_sprite_centre_and_changes_the_image(data):
    base = _render(data, 2, 5, 0, 16, 16)
    for orientation in range(1, 39):
        rotated = _render(data, 2, 5, orientation, 16, 16)
        assert np.abs(_centroid(rotated) - _centroid(base)).max() < 1.5
        assert abs(rotated.sum() - base.sum()) <= 0.06 * base.sum()
    assert (_render(data, 2, 5, 10, 16, 16) != base).sum() > 50  # a quarter turn of a heart shows
    np.testing.assert_array_equal(_render(data, 2, 5, 39, 16, 16), base)  # 2*pi == 0, as in the file


def test_scale_grows_area_and_shapes_differ(data):
    areas = [_render(data, 1, s, 0, 16, 16).sum() for s in range(6)]
    assert np.all(np.diff(areas) > 0)
    ratio = areas[-1] / areas[0]
    assert 3.0 < ratio < 5.0  # area grows with the square of scale (0.5 -> 1)
    square, ellipse, heart = (_render(data, s, 5, 0, 16, 16) for s in range(3))
    assert (square != ellipse).sum() > 50 and (square != heart).sum() > 50 and (ellipse != heart).sum() > 50


def test_heart_has_its_notch_and_point():
    # The top-centre of an upright heart is empty (the notch) while its two lobes beside it are filled,
    # and it ends in a point at the bottom.
    image = dsprites_procedural.render_sprites(np.array([2]), np.array([1.0]), np.array([0.0]),
                                               np.array([0.5]), np.array([0.5]))[0]
    rows = np.nonzero(image.any(axis=1))[0]
    top, bottom = rows[0], rows[-1]
    cols = np.nonzero(image[top + 1])[0]
    assert cols.size > 0 and not np.all(np.diff(cols) == 1)  # two lobes: a gap in the second row
    assert image[bottom].sum() <= 3  # the point


def test_batch_rendering_matches_one_by_one(data):
    factors = data.sample_factors(20, np.random.RandomState(5))
    batch = data.sample_observations_from_factors(factors, np.random.RandomState(0))
    singles = np.concatenate([data.sample_observations_from_factors(f[None], np.random.RandomState(0))
                              for f in factors])
    np.testing.assert_array_equal(batch, singles)


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_every_scale_gives_a_different_sprite_over_the_whole_grid(shape):
    # Every orientation and position of the grid: the six scales render six different sprites, so the scale
    # is recoverable from every image. Comparing the patches is comparing the images: a patch's place on the
    # canvas depends on the position alone.
    from dlib_torch.data.ground_truth import dsprites_base
    pos_x, pos_y = (a.ravel() for a in np.meshgrid(np.arange(32), np.arange(32), indexing="ij"))
    n = pos_x.size
    for orientation in dsprites_base.ORIENTATION_VALUES:
        patches = np.stack([dsprites_procedural.sprite_patches(
            np.full(n, shape), np.full(n, scale), np.full(n, orientation), dsprites_base.POSITION_VALUES[pos_x],
            dsprites_base.POSITION_VALUES[pos_y])[0].reshape(n, -1) for scale in dsprites_base.SCALE_VALUES])
        for a in range(6):
            for b in range(a + 1, 6):
                same = (patches[a] == patches[b]).all(axis=1)
                assert not same.any(), "shape {} at scales {} and {}, orientation {:.3f}, posX {} posY {}".format(
                    shape, dsprites_base.SCALE_VALUES[a], dsprites_base.SCALE_VALUES[b], orientation,
                    pos_x[same][0], pos_y[same][0])


def test_the_published_square_clash_is_gone():
    # Scales 0.7 and 0.8 of a square at a centre near a pixel centre covered the same 13x13 pixels before.
    images = dsprites_procedural.render_sprites(np.zeros(2, int), np.array([0.7, 0.8]), np.zeros(2),
                                                np.full(2, 15 / 31), np.full(2, 15 / 31))
    assert images[0].sum() < images[1].sum()
    assert (images[0] <= images[1]).all()  # the smaller square lies inside the larger one
