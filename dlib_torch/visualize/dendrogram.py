"""Dendrograms of factor-code matrices (disentanglement_lib's visualize/dendrogram.py): at which threshold
factors of variation become linked through shared codes.

The merges are computed by dlib_torch/evaluation/metrics/dendrogram.py (the unified scores' `merge_<i>_<j>` keys
come from there); this module only draws them.
"""

import numpy as np
from matplotlib.figure import Figure
from scipy.cluster import hierarchy

from dlib_torch.evaluation.metrics import dendrogram as merges
from dlib_torch.utils import atomic


def dendrogram_plot(matrix, output_dir, factor_names):
    """Writes `<output_dir>.png` (the reference's naming: the path without its extension) for `matrix`
    [factors, codes], and returns {"merge_<i>_<j>": threshold index} for every pair of factors."""
    matrix = np.asarray(matrix, dtype=np.float64)
    linkage, discovered, thresholds = merges.merge_events(matrix)
    num_factors = matrix.shape[0]
    names = list(factor_names) if factor_names is not None else ["factor_{}".format(i) for i in range(num_factors)]
    fig = Figure(figsize=(7., max(3., 0.5 * num_factors + 1.5)))
    ax = fig.add_subplot(1, 1, 1)
    if num_factors > 1:
        tree = hierarchy.dendrogram(linkage, orientation="right", labels=names, ax=ax, color_threshold=0,
                                    above_threshold_color="b")
        leaf_positions = 5. + 10. * np.arange(num_factors)
        # Each leaf starts where its factor was first linked to a code, not at 0.
        for position, leaf in zip(leaf_positions, tree["leaves"]):
            ax.plot([0, discovered[leaf]], [position, position], color="w", linewidth=3)
            ax.plot(discovered[leaf], position, "o", color="b")
    ticks = list(range(0, len(thresholds), 10))
    ax.set_xticks(ticks)
    ax.set_xticklabels(["{:.2f}".format(t) for t in thresholds[ticks]], rotation=45)
    ax.set_xlabel("Threshold")
    ax.set_ylabel("Factor")
    with atomic.atomic_path(output_dir + ".png") as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    return merges.report_merges(linkage, num_factors)
