"""Tests of dlib_torch/visualize/visualize_model.py on tiny models trained with the real training stage."""
import json
import os
import shutil

import gin
import numpy as np
import pytest
import torch
from PIL import Image

from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.unsupervised import train
from dlib_torch.utils import exported_modules
from dlib_torch.utils import output_dirs
from dlib_torch.utils.errors import UserError
from dlib_torch.visualize import held_out_panel
from dlib_torch.visualize import visualize_model
from dlib_torch.visualize import visualize_util

TEST_GIN = os.path.join(os.path.dirname(__file__), "visualize_test.gin")
KINDS = ["std_gaussian_cycle", "fitted_gaussian_cycle", "fixed_interval_cycle", "conf_interval_cycle",
         "minmax_interval_cycle"]
FAST = {"num_points_irs": 300}  # the interventional-effect plots take time per point and per subplot
HELD_OUT_MIN_X = 29  # posX index 16 puts a sprite's centre at x = 32 px; shapes shift their centroid a little


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """The tiny models run fastest on one thread (and pytest -n 2 already uses both cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _clear_gin():
    gin.clear_config()
    yield
    gin.clear_config()


def _train(model_dir, bindings=()):
    train.train_with_gin(str(model_dir), False, [TEST_GIN], list(bindings))
    return str(model_dir)


@pytest.fixture(scope="module")
def vae_model(tmp_path_factory):
    """dsprites_procedural (1 channel), 3 latents, dense one-layer encoder and decoder."""
    return _train(tmp_path_factory.mktemp("vae") / "model")


@pytest.fixture(scope="module")
def vae_outputs(vae_model, tmp_path_factory):
    output_dir = str(tmp_path_factory.mktemp("vae_outputs") / "visualizations")
    visualize_model.visualize(vae_model, output_dir, **FAST)
    return output_dir


@pytest.fixture(scope="module")
def model_ignoring_z1(vae_model, tmp_path_factory):
    """The trained model with its decoder's input weights of latent 1 set to zero: it provably ignores z1."""
    model_dir = str(tmp_path_factory.mktemp("ignoring") / "model")
    shutil.copytree(vae_model, model_dir)
    path = exported_modules.exported_path(model_dir, exported_modules.DECODER)
    decoder = torch.jit.load(path)
    first_weight = next(p for name, p in decoder.named_parameters() if name.endswith("weight"))
    assert first_weight.shape[1] == 3  # the dense layer that reads the latents
    with torch.no_grad():
        first_weight[:, 1] = 0.
    exported_modules.save(decoder, path)  # a deliberate change: recorded with its new digest
    return model_dir


def _image(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def _gif_frames(path):
    gif = Image.open(path)
    frames = []
    for i in range(gif.n_frames):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("RGB"), dtype=np.int16))
    return gif, np.stack(frames)


def _panels(frames, num_panels, panel_shape=(64, 64)):
    """[num_panels, num_frames, H, W, 3]: each panel's image in every frame of an animation."""
    return np.stack([frames[:, top:top + h, left:left + w]
                     for top, left, h, w in visualize_util.animation_panel_boxes(num_panels, panel_shape)])


def _files(directory):
    return sorted(os.path.relpath(os.path.join(root, name), directory)
                  for root, _, names in os.walk(directory) for name in names
                  if not os.path.relpath(root, directory).startswith("results") and not name.startswith(".dtl_"))


def _assert_not_uniform_grey(pixels):
    pixels = np.asarray(pixels, dtype=np.float64)
    assert pixels.std() > 5 and pixels.max() - pixels.min() > 50
    assert np.abs(pixels - 128).max() > 40


def test_writes_the_reference_files_with_their_sizes_and_frames(vae_outputs):
    expected = (["reconstructions/reconstructions.jpg", "sampled/samples.jpg",
                 "interventional_effects/interventional_effect.png"]
                + ["traversals/traversals%d.jpg" % i for i in range(3)]
                + ["animated_traversals/%s%d.gif" % (kind, i) for kind in KINDS for i in range(5)])
    assert _files(vae_outputs) == sorted(expected)
    # 8 pairs per row, each 64 + a 2-pixel grey separator + 64 wide.
    # 8 x 8 pairs of 64 + 2 + 64 pixels, 6 white pixels apart.
    assert _image(os.path.join(vae_outputs, "reconstructions", "reconstructions.jpg")).shape == (554, 1082, 3)
    assert _image(os.path.join(vae_outputs, "sampled", "samples.jpg")).shape == (512, 512, 3)
    for i in range(3):  # two label lines (z<j>, KL; 32 pixels) above 11 values (rows) x 3 latents (columns)
        assert _image(os.path.join(vae_outputs, "traversals", "traversals%d.jpg" % i)).shape == (32 + 704, 192, 3)
    for kind in KINDS:
        for i in range(5):
            gif, frames = _gif_frames(os.path.join(vae_outputs, "animated_traversals", "%s%d.gif" % (kind, i)))
            assert gif.n_frames == 20 and gif.info["duration"] == 100  # 20 frames at 10 fps
            # 3 labelled panels in a row: border 10, label 14, panel 64, padding 10, footer 14, border 10.
            assert frames.shape == (20, 122, 232, 3)
    # One 3x3-inch cell per (latent, factor) at 100 dpi: 3 latents x 5 factors.
    assert Image.open(os.path.join(vae_outputs, "interventional_effects", "interventional_effect.png")).size == (
        1500, 900)
    with open(os.path.join(vae_outputs, "results", "json", "visualize_results.json")) as f:
        assert json.load(f)["num_frames"] == 20
    assert os.path.exists(os.path.join(vae_outputs, "results", "aggregate", "visualize.json"))
    assert os.path.exists(os.path.join(vae_outputs, "results", "json", "train_results.json"))  # carried forward
    assert not os.path.exists(os.path.join(vae_outputs, output_dirs.UNFINISHED_MARKER))


def test_images_show_the_data_and_the_decodes_in_contrast(vae_outputs):
    pairs = _image(os.path.join(vae_outputs, "reconstructions", "reconstructions.jpg"))
    originals = np.concatenate([pairs[:, c * 136:c * 136 + 64] for c in range(8)], axis=1)
    reconstructions = np.concatenate([pairs[:, c * 136 + 66:c * 136 + 130] for c in range(8)], axis=1)
    separators = np.concatenate([pairs[:64, c * 136 + 64:c * 136 + 66] for c in range(8)], axis=1)  # first row
    assert abs(np.mean(separators) - 128) <= 5  # thin grey lines (JPEG blurs them a little)
    assert originals.min() <= 10 and originals.max() >= 245  # black background, white sprites
    _assert_not_uniform_grey(reconstructions)
    _assert_not_uniform_grey(_image(os.path.join(vae_outputs, "sampled", "samples.jpg")))
    _, frames = _gif_frames(os.path.join(vae_outputs, "animated_traversals", "fixed_interval_cycle0.gif"))
    panels = _panels(frames, 3)
    _assert_not_uniform_grey(panels)
    label = frames[0, 10:24, 10:74]  # the strip above the first panel holds its label "z0"
    assert label.min() < 100 and label.max() == 255


def test_traversal_changes_used_latents_and_not_an_ignored_one(model_ignoring_z1, tmp_path):
    decoder = torch.jit.load(exported_modules.exported_path(model_ignoring_z1, exported_modules.DECODER))
    codes = torch.randn(4, 3)
    moved = codes.clone()
    moved[:, 1] += 3.
    assert torch.equal(decoder(codes), decoder(moved))  # the decoder ignores z1 ...
    moved = codes.clone()
    moved[:, 0] += 3.
    assert not torch.equal(decoder(codes), decoder(moved))  # ... and not z0

    output_dir = str(tmp_path / "visualizations")
    visualize_model.visualize(model_ignoring_z1, output_dir, num_animations=2, **FAST)
    for kind in KINDS:
        for i in range(2):
            _, frames = _gif_frames(os.path.join(output_dir, "animated_traversals", "%s%d.gif" % (kind, i)))
            panels = _panels(frames, 3)
            change = np.abs(panels - panels[:, :1]).max(axis=(1, 2, 3, 4))  # per panel, over the frames
            assert change[1] == 0, kind
            assert change[0] > 10 and change[2] > 10, kind
    # The still traversals: column 1 (z1 set to 11 values) repeats one image; the other columns do not.
    traversal = _image(os.path.join(output_dir, "traversals", "traversals0.jpg"))
    labels, grid = traversal[:32], traversal[32:].reshape(11, 64, 3, 64, 3)
    assert labels[:, 64:128].min() < 100 and labels[:, 64:128].max() >= 245  # "z1" / "KL ..." in black on white
    row_change = np.abs(grid - grid[:1]).max(axis=(0, 1, 3, 4))
    assert row_change[1] <= 8 and row_change[0] > 30 and row_change[2] > 30


def test_three_channels_and_held_out_panel(tmp_path):
    model_dir = _train(tmp_path / "model", ["dataset.name = 'color_dsprites_procedural'",
                                            "held_out.split = 'shape2tx'"])
    output_dir = str(tmp_path / "visualizations")
    visualize_model.visualize(model_dir, output_dir, num_animations=1, num_frames=6, fps=5, **FAST)
    assert "held_out/train_vs_held_out.png" in _files(output_dir)
    pairs = _image(os.path.join(output_dir, "reconstructions", "reconstructions.jpg"))
    originals = np.concatenate([pairs[:, c * 136:c * 136 + 64] for c in range(8)], axis=1)
    assert (originals.max(axis=2) - originals.min(axis=2)).max() > 60  # coloured sprites
    gif, frames = _gif_frames(os.path.join(output_dir, "animated_traversals", "std_gaussian_cycle0.gif"))
    assert gif.n_frames == 6 and gif.info["duration"] == 200
    _assert_not_uniform_grey(_panels(frames, 3))

    panel = _image(os.path.join(output_dir, "held_out", "train_vs_held_out.png"))
    training, held_out = _held_out_originals(panel)
    # shape2tx holds out squares (shape 0) on the right half (posX >= 16, centres at x >= 32 px): every
    # held-out sprite lies right of the middle, while the training examples lie on both sides.
    held_out_x = [_sprite_centre_x(image) for image in held_out]
    training_x = [_sprite_centre_x(image) for image in training]
    assert min(held_out_x) > HELD_OUT_MIN_X
    assert min(training_x) < HELD_OUT_MIN_X < max(training_x)
    with open(os.path.join(output_dir, "results", "json", "visualize_results.json")) as f:
        record = json.load(f)
    assert 0 <= record["held_out_train_mse"] < 1 and 0 <= record["held_out_test_mse"] < 1


def _held_out_originals(panel, num_examples=16):
    """The original images of both blocks of a held-out panel (4x4 grids of image | reconstruction pairs)."""
    top = 10 + 2 * visualize_util.LABEL_HEIGHT_PX  # border, figure title, block title
    pair_width = 2 * 64 + held_out_panel.PAIR_GAP_PX
    block_width = 4 * pair_width + 3 * 10
    blocks = []
    for left in (10, 10 + block_width + held_out_panel.BLOCK_GAP_PX):
        blocks.append([panel[top + r * 74:top + r * 74 + 64, left + c * (pair_width + 10):][:, :64]
                       for r in range(4) for c in range(4)][:num_examples])
    return blocks


def _sprite_centre_x(image):
    ys, xs = np.nonzero(image.max(axis=2) > 100)
    return xs.mean()


def test_ground_truth_decoder(tmp_path):
    model_dir = _train(tmp_path / "model", ["model.model = @gt_decoder()", "held_out.split = 'shape2tx'"])
    assert not os.path.exists(exported_modules.exported_path(model_dir, exported_modules.GAUSSIAN_ENCODER))
    output_dir = str(tmp_path / "visualizations")
    visualize_model.visualize(model_dir, output_dir, num_animations=2)
    assert _files(output_dir) == sorted(
        ["reconstructions/reconstructions.jpg", "sampled/samples.jpg", "held_out/train_vs_held_out.png"]
        + ["traversals/traversals%d.jpg" % i for i in range(5)]
        + ["animated_traversals/factor_cycle%d.gif" % i for i in range(2)])
    for i in range(5):  # the factor names above 11 values (rows) x 5 factors (columns)
        assert _image(os.path.join(output_dir, "traversals", "traversals%d.jpg" % i)).shape == (16 + 704, 320, 3)
    gif, frames = _gif_frames(os.path.join(output_dir, "animated_traversals", "factor_cycle0.gif"))
    assert gif.n_frames == 20 and gif.info["duration"] == 100
    assert frames.shape == (20, 210, 232, 3)  # 5 labelled panels on 2 rows of 3
    panels = _panels(frames, 5)
    _assert_not_uniform_grey(panels)
    pos_x = named_data.get_named_ground_truth_data("dsprites_procedural").factor_names.index("posX")
    assert np.abs(panels[pos_x] - panels[pos_x, :1]).max() > 30  # walking posX moves the decoded sprite

    panel = _image(os.path.join(output_dir, "held_out", "train_vs_held_out.png"))
    _, held_out = _held_out_originals(panel)
    assert min(_sprite_centre_x(image) for image in held_out) > HELD_OUT_MIN_X  # the true held-out squares


def test_tanh_activation_on_dummy_data(tmp_path):
    model_dir = _train(tmp_path / "model", ["dataset.name = 'dummy_data'", "reconstruction_loss.activation = 'tanh'",
                                            "model.training_steps = 2", "encoder.num_latent = 2"])
    output_dir = str(tmp_path / "visualizations")
    visualize_model.visualize(model_dir, output_dir, num_animations=1, num_frames=4, num_points_irs=100)
    gif, _ = _gif_frames(os.path.join(output_dir, "animated_traversals", "minmax_interval_cycle0.gif"))
    assert gif.n_frames == 4
    # 2 latents x 10 factors of dummy_data.
    assert Image.open(os.path.join(output_dir, "interventional_effects", "interventional_effect.png")).size == (
        3000, 600)


@pytest.mark.parametrize("architecture", [["encoder.encoder_fn = @fc_encoder", "decoder.decoder_fn = @fc_decoder"],
                                          ["encoder.encoder_fn = @conv_encoder",
                                           "decoder.decoder_fn = @deconv_decoder"]], ids=["fc", "conv"])
def test_reference_architectures(architecture, tmp_path):
    model_dir = _train(tmp_path / "model", architecture + ["model.training_steps = 2", "model.batch_size = 4",
                                                           "AdamOptimizer.learning_rate = 0.001"])
    output_dir = str(tmp_path / "visualizations")
    visualize_model.visualize(model_dir, output_dir, num_animations=1, num_frames=3, num_points_irs=100)
    assert len(os.listdir(os.path.join(output_dir, "traversals"))) == 3
    gif, frames = _gif_frames(os.path.join(output_dir, "animated_traversals", "conf_interval_cycle0.gif"))
    assert gif.n_frames == 3 and frames.shape == (3, 122, 232, 3)
    _assert_not_uniform_grey(_image(os.path.join(output_dir, "reconstructions", "reconstructions.jpg")))


def test_output_directory_policy(vae_model, tmp_path):
    settings = dict(num_animations=0, num_points_irs=50)
    output_dir = tmp_path / "visualizations"
    output_dir.mkdir()
    (output_dir / "notes.txt").write_text("a user's file")
    # A directory holding files the stage did not write is refused, even with --overwrite; nothing is deleted.
    for overwrite in (False, True):
        with pytest.raises(UserError, match="files this stage did not write"):
            visualize_model.visualize(vae_model, str(output_dir), overwrite=overwrite, **settings)
        assert (output_dir / "notes.txt").read_text() == "a user's file"

    (output_dir / "notes.txt").unlink()
    visualize_model.visualize(vae_model, str(output_dir), **settings)
    visualize_model.visualize(vae_model, str(output_dir), overwrite=True, **settings)  # replaces its own step
    with pytest.raises(UserError, match="already holds finished 'visualize' results"):
        visualize_model.visualize(vae_model, str(output_dir), **settings)

    # An unfinished visualisation (interrupted before its records) is redone without --overwrite.
    shutil.rmtree(output_dir / "results")
    (output_dir / output_dirs.UNFINISHED_MARKER).write_text('{"step": "visualize"}')
    visualize_model.visualize(vae_model, str(output_dir), **settings)
    assert os.path.exists(output_dir / "results" / "aggregate" / "visualize.json")

    with pytest.raises(UserError, match="contains the input"):
        visualize_model.visualize(vae_model, os.path.dirname(vae_model), overwrite=True, **settings)
    assert os.path.exists(os.path.join(vae_model, "results", "aggregate", "train.json"))


def test_bad_model_directories_are_clear_errors(vae_model, tmp_path):
    with pytest.raises(UserError, match="does not exist; train it first"):
        visualize_model.visualize(str(tmp_path / "missing"), str(tmp_path / "out"))
    unfinished = tmp_path / "unfinished"
    shutil.copytree(vae_model, unfinished)
    os.remove(unfinished / "results" / "aggregate" / "train.json")
    with pytest.raises(UserError, match="no finished 'train' step"):
        visualize_model.visualize(str(unfinished), str(tmp_path / "out"))
    no_export = tmp_path / "no_export"
    shutil.copytree(vae_model, no_export)
    os.remove(no_export / "exported" / "decoder.pt")
    with pytest.raises(UserError, match="decoder.pt is missing"):
        visualize_model.visualize(str(no_export), str(tmp_path / "out"))
    assert not os.path.exists(tmp_path / "out")  # nothing is written for a model that cannot be visualised
    with pytest.raises(UserError, match="num_frames must be an integer of at least 1"):
        visualize_model.visualize(vae_model, str(tmp_path / "out"), num_frames=0)


def test_latent_traversal_grid_layout():
    def generator(codes):  # image [2, 1, 1] holding the code's first two values
        return np.asarray(codes, dtype=np.float32)[:, :2, None, None]

    grid = visualize_model.latent_traversal_1d_multi_dim(generator, np.array([5., 7.]), values=3)
    assert grid.shape == (3 * 2, 2 * 1, 1)
    column0 = grid[:, 0, 0].reshape(3, 2)  # dimension 0 set to -1, 0, 1; dimension 1 kept at 7
    np.testing.assert_allclose(column0, [[-1, 7], [0, 7], [1, 7]])
    column1 = grid[:, 1, 0].reshape(3, 2)
    np.testing.assert_allclose(column1, [[5, -1], [5, 0], [5, 1]])
    assert visualize_model.latent_traversal_1d_multi_dim(generator, np.array([5., 7.]), 1, 3,
                                                         transpose=True).shape == (2, 3, 1)


def test_latent_kl_is_the_average_kl_to_the_prior():
    means = np.array([[0., 2., 0.], [0., -2., 0.]])
    logvars = np.array([[0., 0., np.log(4.)], [0., 0., np.log(4.)]])
    np.testing.assert_allclose(visualize_model.latent_kl(means, logvars), [0., 2., 0.5 * (4. - np.log(4.) - 1.)])
