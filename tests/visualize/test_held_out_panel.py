"""Tests of dlib_torch/visualize/held_out_panel.py on procedural dSprites with known reconstructions."""
import numpy as np
from PIL import Image

from dlib_torch.data.ground_truth import named_data
from dlib_torch.visualize import held_out_panel
from dlib_torch.visualize import visualize_util


def _block_images(panel, block, column):
    """Images of one block (0 left, 1 right) of the 4x4 grid of pairs; column 0 the originals, 1 the others."""
    top = 10 + 2 * visualize_util.LABEL_HEIGHT_PX
    pair_width = 2 * 64 + held_out_panel.PAIR_GAP_PX
    left = 10 + block * (4 * pair_width + 3 * 10 + held_out_panel.BLOCK_GAP_PX)
    left += column * (64 + held_out_panel.PAIR_GAP_PX)
    return [panel[top + r * 74:top + r * 74 + 64, left + c * (pair_width + 10):left + c * (pair_width + 10) + 64]
            for r in range(4) for c in range(4)]


def _centre_x(image):
    return np.nonzero(image.max(axis=2) > 100)[1].mean()


def test_training_left_held_out_right_with_their_errors(tmp_path):
    data = named_data.get_named_ground_truth_data("dsprites_procedural")
    path = str(tmp_path / "panel.png")
    errors = held_out_panel.save_held_out_panel(path, data, "shape2tx", None, lambda x, f: x,
                                                np.random.RandomState(0))
    assert errors == {"train_mse": 0.0, "test_mse": 0.0}  # perfect reconstructions
    panel = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
    assert panel.shape == (10 + 2 * 14 + 4 * 64 + 3 * 10 + 10, 10 + 2 * (4 * 130 + 30) + 30 + 10, 3)
    for block in (0, 1):  # each reconstruction shows the same image as its original
        for original, copy in zip(_block_images(panel, block, 0), _block_images(panel, block, 1)):
            np.testing.assert_array_equal(original, copy)
    assert min(_centre_x(image) for image in _block_images(panel, 1, 0)) > 29  # squares right of the middle
    assert min(_centre_x(image) for image in _block_images(panel, 0, 0)) < 29


def test_model_trained_on_the_test_side_has_it_on_the_left(tmp_path):
    data = named_data.get_named_ground_truth_data("dsprites_procedural")
    path = str(tmp_path / "panel.png")
    errors = held_out_panel.save_held_out_panel(path, data, "shape2tx", None, lambda x, f: np.zeros_like(x),
                                                np.random.RandomState(0), trained_side="test")
    assert errors["train_mse"] > 0 and errors["test_mse"] > 0
    panel = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
    assert min(_centre_x(image) for image in _block_images(panel, 0, 0)) > 29
    assert all(image.max() == 0 for image in _block_images(panel, 0, 1))  # the black "reconstructions"
