"""Interventional effects: how each latent responds when one factor is intervened on, the others kept.

The plots of disentanglement_lib's visualize_irs.py, from the authors of "Robustly Disentangled Causal
Mechanisms: Validating Deep Representations for Interventional Robustness" (Suter et al., 2019,
https://arxiv.org/abs/1811.00007). Drawn on a matplotlib `Figure` (Agg), without pyplot's global state.
"""
import os

import numpy as np
from matplotlib.figure import Figure

from dlib_torch.evaluation.metrics import irs
from dlib_torch.utils import atomic

COLORS = ["b", "y", "g", "r", "c", "m", "k"]
# The reference gives every value of the kept factor a legend entry; beyond this many they hide the plot.
MAX_LEGEND_ENTRIES = 10


def interventional_robustness(gen_factors, latents, diff_quantile=0.99):
    """Each latent's parent factor and IRS, from the IRS metric's `scalable_disentanglement_score`.

    Returns:
      (parents [D] ints, scores [D] floats); a latent that never varies gets parent 0 and score 0 (the
      reference divides by zero there).
    """
    latents = np.asarray(latents, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = irs.scalable_disentanglement_score(np.asarray(gen_factors), latents, diff_quantile)
    irs_matrix = np.where(scores["max_deviations"][:, None] > 0, scores["IRS_matrix"], 0.0)
    return irs_matrix.argmax(axis=1), irs_matrix.max(axis=1)


def vis_all_interventional_effects(gen_factors, latents, output_dir, factor_names=None):
    """Writes `output_dir/interventional_effect.png`: one plot per (latent, factor), latents as rows.

    `factor_names` (optional, a dlib_torch addition) label the factors instead of the reference's g_0, g_1, ...

    A latent's cell at its parent factor shows E[z | factor] (mean, median, +-1 std) and its IRS in the
    title; the other cells show E[z | parent, factor] as the factor is intervened on, one line per value of
    the parent. Each cell is 3x3 inches (the reference made the whole figure 3*num_factors inches square).
    """
    gen_factors = np.asarray(gen_factors)
    latents = np.asarray(latents)
    parents, scores = interventional_robustness(gen_factors, latents)
    num_latents, num_factors = latents.shape[1], gen_factors.shape[1]
    fig = Figure(figsize=(3.0 * num_factors, 3.0 * num_latents))
    axes = fig.subplots(num_latents, num_factors, sharex="col", sharey="row", squeeze=False)
    for j in range(num_factors):
        for latent in range(num_latents):
            ax = axes[latent, j]
            is_parent = parents[latent] == j
            visualize_interventional_effect(gen_factors, latents, latent, parents[latent], j,
                                            no_conditioning=is_parent, ax=ax, factor_names=factor_names)
            ax.set_title("Parent={}, IRS = {:1.2}".format(_factor_label(parents[latent], factor_names),
                                                          scores[latent]) if is_parent else "")
    fig.tight_layout()
    with atomic.atomic_path(os.path.join(output_dir, "interventional_effect.png")) as tmp:
        fig.savefig(tmp, format="png")


def visualize_interventional_effect(gen_factors, latents, latent_dim, const_factor_idx, intervened_factor_idx,
                                    no_conditioning=False, ax=None, plot_legend=True, plot_scatter=True,
                                    factor_names=None):
    """Draws one cell: latent `latent_dim` against factor `intervened_factor_idx`.

    Points are coloured by the value of factor `const_factor_idx`. With `no_conditioning`, draws
    E[z | g_j], its median and +-1 standard deviation; otherwise E[z | g_i, g_j] as a function of g_j, one
    line per value g_i of the kept factor. Factors are labelled by `factor_names` when given, else g_i.
    Returns the axes (a new figure's when `ax` is None).
    """
    kept_name = _factor_label(const_factor_idx, factor_names)
    intervened_name = _factor_label(intervened_factor_idx, factor_names)
    if ax is None:
        ax = Figure(figsize=(10, 7)).subplots()
    kept = np.asarray(gen_factors)[:, const_factor_idx]
    intervened = np.asarray(gen_factors)[:, intervened_factor_idx]
    z = np.asarray(latents)[:, latent_dim]
    g_is, kept_index = np.unique(kept, return_inverse=True)
    g_js, intervened_index = np.unique(intervened, return_inverse=True)

    if plot_scatter:
        # One marker series per colour: the same picture as a scatter plot, several times faster to draw.
        for i in range(len(g_is)):
            ax.plot(intervened[kept_index == i], z[kept_index == i], linestyle="none", marker="o", markersize=6,
                    c=COLORS[i % len(COLORS)])

    if no_conditioning:
        groups = [z[intervened_index == j] for j in range(len(g_js))]
        means = np.array([group.mean() for group in groups])
        stds = np.array([group.std() for group in groups])
        ax.plot(g_js, means, linewidth=2, markersize=12, label="mean")
        ax.plot(g_js, [np.median(group) for group in groups], linewidth=2, markersize=12, label="median")
        ax.plot(g_js, means + stds, linestyle="--", c="b", linewidth=1)
        ax.plot(g_js, means - stds, linestyle="--", c="b", linewidth=1)
        ax.set_ylabel("E[z_{}|{}]".format(latent_dim, intervened_name))
        ax.set_xlabel(intervened_name)
        _legend_beside(ax)
    else:
        # E[z | g_i, g_j] for every pair of values; NaN where no point has the pair (a gap in the line).
        cell = kept_index * len(g_js) + intervened_index
        sums = np.bincount(cell, weights=z, minlength=len(g_is) * len(g_js))
        counts = np.bincount(cell, minlength=len(g_is) * len(g_js))
        with np.errstate(invalid="ignore", divide="ignore"):
            conditional_means = (sums / counts).reshape(len(g_is), len(g_js))
        for i, g_i in enumerate(g_is):
            ax.plot(g_js, conditional_means[i], marker="o", linestyle="--", c=COLORS[i % len(COLORS)],
                    label="{}=={}".format(kept_name, g_i), linewidth=1.5, markersize=3)
        ax.set_xlabel("int. {}".format(intervened_name))
        ax.set_ylabel("E[z_{}|{}, {}]".format(latent_dim, kept_name, intervened_name))
        ax.set_title("Interventional Effect (keeping parent fixed)")
        if plot_legend and len(g_is) <= MAX_LEGEND_ENTRIES:
            _legend_beside(ax)
    return ax


def _legend_beside(ax):
    """The legend to the right of the plot, outside it, so that it never covers the points."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize="small", frameon=False)


def _factor_label(index, factor_names):
    """The factor's name when known, else the reference's g_<index>."""
    if factor_names is not None and 0 <= index < len(factor_names):
        return str(factor_names[index])
    return "g_{}".format(index)
