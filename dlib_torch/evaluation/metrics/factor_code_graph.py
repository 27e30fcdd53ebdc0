"""A factor-code matrix read as a bipartite graph whose edges are its entries at or above a threshold (the
counts behind unified scores' precision curve, disentanglement_lib's visualize_scores.precision and recall).

`precision` counts the connected groups of more than one node started from a row (factors captured in
independent groups of codes), `recall` the rows with at least one edge (factors discovered).
"""
import numpy as np


def precision(matrix, th):
    """Connected groups of more than one node, started from a row, in the graph of the entries of `matrix`
    [rows, columns] at or above `th` (how many factors are captured in independent groups of codes)."""
    adjacency = np.where(np.asarray(matrix) < th, 0., matrix)
    num_rows, num_columns = adjacency.shape
    row_seen = np.zeros(num_rows, dtype=bool)
    column_seen = np.zeros(num_columns, dtype=bool)
    groups = 0
    for start in range(num_rows):
        if row_seen[start]:
            continue
        row_seen[start] = True
        size, stack = 1, [("row", start)]
        while stack:
            kind, node = stack.pop()
            if kind == "row":
                for column in np.flatnonzero(adjacency[node] != 0):
                    if not column_seen[column]:
                        column_seen[column] = True
                        size += 1
                        stack.append(("column", column))
            else:
                for row in np.flatnonzero(adjacency[:, node] != 0):
                    if not row_seen[row]:
                        row_seen[row] = True
                        size += 1
                        stack.append(("row", row))
        if size > 1:
            groups += 1
    return groups


def recall(matrix, th):
    """Rows of `matrix` [rows, columns] with at least one entry at or above `th` (factors discovered)."""
    adjacency = np.where(np.asarray(matrix) < th, 0., matrix)
    return int(np.sum(np.sum(adjacency, axis=1) != 0))
