"""The numbers behind unified scores' dendrograms (disentanglement_lib's visualize/dendrogram.py): at which
threshold factors of variation become linked through shared codes.

The matrix [factors, codes] is a bipartite graph; its edges are added in decreasing order of value and joined
with union-find. Whenever two groups that each hold a factor join, a merge is recorded at the edge's position in
that order (its threshold index); `report_merges` turns the merges into `merge_<i>_<j>` keys. Equal values are
ordered as the reference orders them: numpy's sort of an object array (its table from `pd.melt(...).to_numpy()`),
not of floats, whose sort leaves ties in another order. dlib_torch/visualize/dendrogram.py draws the merges.
"""
import numpy as np


def merge_keys(matrix):
    """{"merge_<i>_<j>": threshold index} for every pair of factors, from `matrix` [factors, codes].

    With a single factor there is nothing to merge: {} (the reference raises while drawing its empty dendrogram;
    here a one-factor data set keeps its other unified scores).
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    linkage, _, _ = merge_events(matrix)
    return report_merges(linkage, matrix.shape[0])


def merge_events(matrix):
    """Union-find over the edges of `matrix` [factors, codes] in decreasing order of value.

    Returns:
      linkage [num_factors - 1, 4] (scipy's layout: the two cluster ids, the threshold index, the new size),
      the threshold index at which each factor got its first edge, and the sorted thresholds.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    num_factors, num_codes = matrix.shape
    # Edges code by code, factor by factor (the reference's table order), strongest first, ties as it leaves them.
    factor_of_edge = np.tile(np.arange(num_factors), num_codes)
    code_of_edge = np.repeat(np.arange(num_codes), num_factors) + num_factors
    values = matrix.T.ravel()
    order = np.asarray(values, dtype=object).argsort()[::-1]
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
