"""Dendrograms of factor-code matrices (disentanglement_lib's visualize/dendrogram.py): at which threshold
factors of variation become linked through shared codes.

The matrix [factors, codes] is a bipartite graph; its edges are added in decreasing order of value and joined
with union-find. Whenever two groups that each hold a factor join, a merge is recorded at the edge's position in
that order (its threshold index), which `report_merges` turns into the unified scores' `merge_<i>_<j>` keys.
"""

import numpy as np
from matplotlib.figure import Figure
from scipy.cluster import hierarchy

from dlib_torch.utils import atomic


def dendrogram_plot(matrix, output_dir, factor_names):
    """Writes `<output_dir>.png` (the reference's naming: the path without its extension) and returns
    {"merge_<i>_<j>": threshold index} for every pair of factors, from `matrix` [factors, codes]."""
    matrix = np.asarray(matrix, dtype=np.float64)
    linkage, discovered, thresholds = merge_events(matrix)
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
    return report_merges(linkage, num_factors)


def merge_events(matrix):
    """Union-find over the edges of `matrix` [factors, codes] in decreasing order of value.

    Returns:
      linkage [num_factors - 1, 4] (scipy's layout: the two cluster ids, the threshold index, the new size),
      the threshold index at which each factor got its first edge, and the sorted thresholds.
    """
    num_factors, num_codes = matrix.shape
    # Edges code by code, factor by factor (the reference's table order), strongest first.
    factor_of_edge = np.tile(np.arange(num_factors), num_codes)
    code_of_edge = np.repeat(np.arange(num_codes), num_factors) + num_factors
    values = matrix.T.ravel()
    order = values.argsort()[::-1]
    parent = list(range(num_factors + num_codes))
    cluster_id = {i: i for i in range(num_factors)}
    size = {i: 1 for i in range(num_factors)}
    linkage = np.zeros((max(num_factors - 1, 0), 4))
    discovered = {}
    merges = 0
    for index, edge in enumerate(order):
        factor, code = int(factor_of_edge[edge]), int(code_of_edge[edge])
        discovered.setdefault(factor, index)
        root_factor, root_code = _find(parent, factor), _find(parent, code)
        if root_factor == root_code:
            continue
        low, high = min(root_factor, root_code), max(root_factor, root_code)
        parent[high] = low  # roots stay on factors, which have the smallest ids
        if high < num_factors:  # two groups that each hold a factor
            new_id = num_factors + merges
            # The group of the edge's factor first, then the group of its code, as the reference.
            first, second = cluster_id[root_factor], cluster_id[root_code]
            size[new_id] = size[first] + size[second]
            linkage[merges] = [first, second, index, size[new_id]]
            cluster_id[root_factor] = cluster_id[root_code] = new_id
            merges += 1
    return linkage, discovered, values[order]


def report_merges(z, num_factors):
    """{"merge_<i>_<j>": threshold index} for the factors i, j joined by each row of the linkage `z`."""
    scores = {}
    members = {i: [i] for i in range(num_factors)}
    next_id = num_factors
    for cluster_1, cluster_2, threshold_index, _ in np.asarray(z):
        nodes_1, nodes_2 = members.pop(int(cluster_1)), members.pop(int(cluster_2))
        for node_1 in nodes_1:
            for node_2 in nodes_2:
                scores["merge_{}_{}".format(node_1, node_2)] = float(threshold_index)
        members[next_id] = nodes_1 + nodes_2
        next_id += 1
    return scores


def _find(parent, node):
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node
