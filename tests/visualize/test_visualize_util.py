"""Tests of dlib_torch/visualize/visualize_util.py: grids, labelled animations, GIF colour and contrast."""
import numpy as np
from PIL import Image

from dlib_torch.visualize import visualize_util


def _gif_frames(path):
    gif = Image.open(path)
    frames = []
    for i in range(gif.n_frames):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("RGB"), dtype=np.int16))
    return gif, np.stack(frames)


def test_grey_gif_frames_are_exact_and_identical_frames_are_kept(tmp_path):
    rng = np.random.RandomState(0)
    moving = rng.uniform(size=[6, 64, 64, 1]).astype(np.float32)
    still = np.repeat(rng.uniform(size=[1, 64, 64, 1]).astype(np.float32), 6, axis=0)
    frames = visualize_util.animation_frames([moving, still], panel_labels=["z0", "z1"])
    path = str(tmp_path / "a.gif")
    visualize_util.save_animation([moving, still], path, fps=4, panel_labels=["z0", "z1"])
    gif, written = _gif_frames(path)
    assert gif.n_frames == 6 and gif.info["duration"] == 250 and gif.info["loop"] == 0
    np.testing.assert_array_equal(written, np.stack([visualize_util.to_uint8_rgb(f) for f in frames]))

    # A constant animation still has all its frames (the frame number in the footer keeps them distinct).
    visualize_util.save_animation([still, still], path, fps=10)
    assert Image.open(path).n_frames == 6


def test_colour_gif_keeps_colours_and_still_panels_constant(tmp_path):
    rng = np.random.RandomState(0)
    red_to_blue = np.zeros([8, 64, 64, 3], np.float32)
    red_to_blue[..., 0] = np.linspace(1, 0, 8)[:, None, None]
    red_to_blue[..., 2] = np.linspace(0, 1, 8)[:, None, None]
    still = np.repeat(rng.uniform(size=[1, 64, 64, 3]).astype(np.float32), 8, axis=0)
    path = str(tmp_path / "c.gif")
    visualize_util.save_animation([red_to_blue, still], path, fps=10, panel_labels=["z0", "z1"])
    _, written = _gif_frames(path)
    (top0, left0, h, w), (top1, left1, _, _) = visualize_util.animation_panel_boxes(2, (64, 64))
    first = written[:, top0:top0 + h, left0:left0 + w]
    assert np.abs(first[0] - [255, 0, 0]).max() <= 4 and np.abs(first[-1] - [0, 0, 255]).max() <= 4
    second = written[:, top1:top1 + h, left1:left1 + w]
    assert np.abs(second - second[:1]).max() == 0  # one palette for all frames: no flicker
    expected = visualize_util.to_uint8_rgb(still[0]).astype(np.int16)
    assert np.abs(second[0] - expected).mean() < 12  # 256 colours for random noise: close, not exact


def test_panel_boxes_locate_every_panel_and_labels_sit_above_them():
    sequences = [np.full([2, 5, 7, 1], value, np.float32) for value in np.linspace(0, 0.9, 10)]
    frames = visualize_util.animation_frames(sequences, panel_labels=["z%d" % i for i in range(10)])
    boxes = visualize_util.animation_panel_boxes(10, (5, 7))
    rows = sorted({top for top, _, _, _ in boxes})
    assert len(rows) == 2 and len({left for _, left, _, _ in boxes}) == 5  # the reference's 2 x 5 grid
    for (top, left, h, w), sequence in zip(boxes, sequences):
        np.testing.assert_allclose(frames[1][top:top + h, left:left + w], visualize_util.to_rgb(sequence[1]))
        label = frames[1][top - visualize_util.LABEL_HEIGHT_PX:top, left:left + w]
        assert label.min() < 0.5  # dark text on the white strip
    unlabelled = visualize_util.animation_frames(sequences)
    for (top, left, h, w), sequence in zip(visualize_util.animation_panel_boxes(10, (5, 7), labelled=False),
                                           sequences):
        np.testing.assert_allclose(unlabelled[0][top:top + h, left:left + w], visualize_util.to_rgb(sequence[0]))


def test_footer_numbers_frames_and_fits_narrow_animations():
    one_panel = [np.zeros([3, 64, 64, 1], np.float32)]
    frames = visualize_util.animation_frames(one_panel)
    assert len(frames) == 3
    assert not np.array_equal(frames[0], frames[1])  # "1/3" and "2/3"
    footer = frames[0][10 + 64 + 10:10 + 64 + 10 + visualize_util.LABEL_HEIGHT_PX, 10:74]
    assert footer.min() < 0.5


def test_grid_save_images_tiles_columns_as_the_reference(tmp_path):
    images = [np.full([2, 3, 1], k / 8., np.float32) for k in range(9)]
    path = str(tmp_path / "g.png")
    visualize_util.grid_save_images(images, path)
    grid = np.asarray(Image.open(path).convert("RGB"))[:, :, 0]
    assert grid.shape == (6, 9)
    assert grid[0, 0] == 0 and grid[2, 0] == round(255 / 8.) and grid[0, 3] == round(3 * 255 / 8.)


def test_cycles():
    values = visualize_util.cycle_interval(0., 8, -2., 2.)
    np.testing.assert_allclose(values, [0, 1, 2, 1, 0, -1, -2, -1])
    np.testing.assert_array_equal(visualize_util.cycle_interval(0.3, 5, 0.3, 0.3), [0.3] * 5)
    gaussian = visualize_util.cycle_gaussian(0., 20)
    assert gaussian[0] == 0 and abs(gaussian.max() - 3.09) < 0.01 and abs(gaussian.min() + 3.09) < 0.01
    np.testing.assert_array_equal(visualize_util.cycle_factor(0, 3, 6), [0, 1, 2, 2, 1, 0])
    np.testing.assert_array_equal(visualize_util.cycle_factor(0, 1, 4), [0, 0, 0, 0])
