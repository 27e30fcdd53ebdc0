"""Pictures of the unified scores (disentanglement_lib's visualize/visualize_scores.py).

`draw_factor_code_matrix` draws what unified_scores hands to the evaluation stage (metrics/artifacts.py): heat
squares, the precision and recall curves (their counts from metrics/factor_code_graph.py) and the dendrogram.
Drawn on matplotlib `Figure`s (Agg), saved atomically.
"""
import os

import numpy as np
from matplotlib import cm
from matplotlib.figure import Figure

from dlib_torch.evaluation.metrics import factor_code_graph
from dlib_torch.utils import atomic
from dlib_torch.visualize import dendrogram


def draw_factor_code_matrix(artifact):
    """Writes an artifacts.FactorCodeMatrix's pictures: `<name>.png`, `<name>_pr.png` and `<name>_dendrogram.png`
    in its directory (what the reference's unified_scores drew itself)."""
    matrix = np.asarray(artifact.matrix, dtype=np.float64)  # [codes, factors]
    heat_square(matrix.copy(), artifact.directory, artifact.name, "Latent codes", "Factors of Variation",
                factor_names=artifact.factor_names)
    plot_recovery_vs_independent(matrix.T.copy(), artifact.directory, artifact.name + "_pr")
    dendrogram.dendrogram_plot(matrix.T.copy(), os.path.join(artifact.directory, artifact.name + "_dendrogram"),
                               artifact.factor_names)


def heat_square(matrix, output_dir, name, xlabel, ylabel, max_val=None, factor_names=None):
    """Writes `output_dir/<name>.png`: one square per entry of `matrix` [codes, factors], sized and coloured by
    its value in [0, max_val] (default: the matrix's maximum, 1 for an all-zero matrix)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if max_val is None:
        max_val = float(np.max(matrix)) or 1.
    elif max_val < np.max(matrix):
        raise ValueError("The matrix has maximum value larger than max_val")
    num_codes, num_factors = matrix.shape
    fig = Figure(figsize=(max(4., 0.6 * num_codes + 2.), max(3., 0.6 * num_factors + 1.5)))
    grid = fig.add_gridspec(1, 15, wspace=1.2)
    ax = fig.add_subplot(grid[0, :-1])
    codes, factors = np.meshgrid(np.arange(num_codes), np.arange(num_factors), indexing="ij")
    values = matrix.ravel() / max_val
    # The largest square fills its grid cell: side ~ axis width in points / number of codes.
    side = 0.8 * 72. * fig.get_size_inches()[0] * (14. / 15.) * 0.85 / max(num_codes, num_factors)
    ax.scatter(codes.ravel(), factors.ravel(), s=(side ** 2) * values, marker="s", c=cm.Blues(values))
    ax.set_xticks(range(num_codes))
    ax.set_yticks(range(num_factors))
    if factor_names is not None:
        ax.set_yticklabels(list(factor_names))
    ax.set_xticks([v + 0.5 for v in range(num_codes)], minor=True)
    ax.set_yticks([v + 0.5 for v in range(num_factors)], minor=True)
    ax.grid(True, which="minor", color="0.85")
    ax.set_xlim(-0.5, num_codes - 0.5)
    ax.set_ylim(-0.5, num_factors - 0.5)
    ax.tick_params(which="both", length=0)
    ax.set_aspect(1.)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(name)
    bar = fig.add_subplot(grid[0, -1])
    levels = np.linspace(0., max_val, 256)
    bar.barh(levels, np.ones_like(levels), height=levels[1] - levels[0], color=cm.Blues(levels / max_val),
             linewidth=0)
    bar.set_xlim(0, 1)
    bar.set_ylim(0, max_val)
    bar.set_xticks([])
    bar.set_yticks(np.linspace(0, max_val, 3))
    bar.yaxis.tick_right()
    _save(fig, os.path.join(output_dir, "{}.png".format(name)))


def plot_recovery_vs_independent(matrix, output_dir, name):
    """Writes `output_dir/<name>.png`: for each threshold (the entries of `matrix` [factors, codes] in
    decreasing order), the factors captured independently (precision) and those discovered (recall)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    thresholds = np.sort(matrix.flatten())[::-1]
    precisions = [factor_code_graph.precision(matrix, x) for x in thresholds]
    recalls = [factor_code_graph.recall(matrix, x) for x in thresholds]
    fig = Figure(figsize=(7., 4.5))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(range(len(thresholds)), precisions, label="Independent groups", color="C0", linewidth=3)
    ax.plot(range(len(thresholds)), recalls, "--", label="Discovered", color="C1", linewidth=3)
    ticks = list(range(0, len(thresholds), 10))
    ax.set_xticks(ticks)
    ax.set_xticklabels(["{:.2f}".format(t) for t in thresholds[ticks]], rotation=45)
    ax.set_ylim(0, matrix.shape[0] * 1.1)
    ax.set_yticks(np.linspace(0, matrix.shape[0], matrix.shape[0] + 1))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.2), ncol=2)
    ax.set_xlabel("Threshold")
    ax.set_ylabel("Number of Factors")
    _save(fig, os.path.join(output_dir, name + ".png"))


def _save(fig, path):
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
