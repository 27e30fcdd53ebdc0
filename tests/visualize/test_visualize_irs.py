"""Tests of dlib_torch/visualize/visualize_irs.py: parents and scores, and the plot file."""
import numpy as np
from PIL import Image

from dlib_torch.visualize import visualize_irs


def _factors(num_points, sizes, random_state):
    return np.stack([random_state.randint(size, size=num_points) for size in sizes], axis=1)


def test_a_latent_per_factor_has_that_parent_and_a_high_score():
    rs = np.random.RandomState(0)
    factors = _factors(2000, [3, 5, 4], rs)
    latents = factors[:, [2, 0, 1]] + 0.01 * rs.normal(size=(2000, 3))  # latent l copies factor [2, 0, 1][l]
    parents, scores = visualize_irs.interventional_robustness(factors, latents)
    np.testing.assert_array_equal(parents, [2, 0, 1])
    assert np.all(scores > 0.9)


def test_a_mixed_latent_scores_low_and_a_constant_one_scores_zero():
    rs = np.random.RandomState(0)
    factors = _factors(2000, [10, 10], rs)
    latents = np.stack([factors[:, 0] + factors[:, 1], np.full(2000, 3.)], axis=1)
    parents, scores = visualize_irs.interventional_robustness(factors, latents)
    assert scores[0] < 0.6
    assert parents[1] == 0 and scores[1] == 0  # no division by zero


def test_plot_has_a_three_inch_cell_per_latent_and_factor(tmp_path):
    rs = np.random.RandomState(0)
    factors = _factors(300, [3, 12], rs)  # 12 values: more than the legend shows
    latents = np.concatenate([factors / 10., rs.normal(size=(300, 1))], axis=1)
    visualize_irs.vis_all_interventional_effects(factors, latents, str(tmp_path / "irs"))
    image = Image.open(tmp_path / "irs" / "interventional_effect.png")
    assert image.size == (2 * 300, 3 * 300)
    pixels = np.asarray(image.convert("RGB"))
    assert pixels.min() < 50 and pixels.max() == 255
    assert sorted(p.name for p in (tmp_path / "irs").iterdir()) == ["interventional_effect.png"]


def test_single_latent_and_single_factor():
    rs = np.random.RandomState(0)
    factors = _factors(50, [4], rs)
    ax = visualize_irs.visualize_interventional_effect(factors, factors.astype(float), 0, 0, 0, no_conditioning=True)
    assert ax.get_ylabel() == "E[z_0|g_0]"


def test_factor_names_label_the_axes_and_titles():
    rs = np.random.RandomState(0)
    factors = _factors(200, [3, 4], rs)
    latents = factors.astype(float)
    ax = visualize_irs.visualize_interventional_effect(factors, latents, 0, 0, 1, factor_names=["shape", "posX"])
    assert ax.get_xlabel() == "int. posX" and ax.get_ylabel() == "E[z_0|shape, posX]"
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "shape==0"
    ax = visualize_irs.visualize_interventional_effect(factors, latents, 0, 0, 1)
    assert ax.get_xlabel() == "int. g_1"  # the reference's labels without names
