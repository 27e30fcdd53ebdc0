"""The unified scores' dendrogram merges: the reference's keys, ties included (its own dendrogram_plot)."""
from matplotlib import pyplot
import numpy as np

from dlib_torch.evaluation.metrics import dendrogram


def test_tied_values_merge_in_the_references_order():
    # A float sort leaves these ties in another order: {merge_1_0: 2, merge_2_1: 4, merge_2_0: 4}.
    matrix = np.array([[0, 2 / 3, 2 / 3, 1 / 3], [1 / 3, 2 / 3, 0, 1], [1 / 3, 1 / 3, 1 / 3, 1 / 3]])
    assert dendrogram.merge_keys(matrix) == {"merge_0_1": 3., "merge_2_0": 4., "merge_2_1": 4.}


def test_the_references_merges_on_random_tied_matrices(reference_unified_scores, tmp_path):
    rs = np.random.RandomState(0)
    for trial in range(40):
        num_factors, num_codes = rs.randint(2, 6), rs.randint(2, 8)
        matrix = rs.randint(0, rs.randint(2, 6), size=(num_factors, num_codes)) / 3.
        theirs = reference_unified_scores.dendrogram.dendrogram_plot(
            matrix, str(tmp_path / str(trial)), ["f{}".format(i) for i in range(num_factors)])
        pyplot.close("all")  # the reference draws with pyplot
        assert dendrogram.merge_keys(matrix) == {key: float(value) for key, value in theirs.items()}, matrix


def test_merges_of_a_small_matrix_and_a_single_factor():
    # Factors (rows) x codes: factor 0 -> code 0 (0.9), factor 1 -> code 1 (0.8), factor 2 shares code 1 (0.5).
    matrix = np.array([[0.9, 0.0, 0.1], [0.0, 0.8, 0.0], [0.0, 0.5, 0.2]])
    linkage, discovered, thresholds = dendrogram.merge_events(matrix)
    assert list(thresholds[:3]) == [0.9, 0.8, 0.5]
    assert discovered[0] == 0 and discovered[1] == 1 and discovered[2] == 2
    # Edge 3 (0.5) joins factor 2 to factor 1's group; edge 5 (0.1, code 2 linked to factor 2 at 0.2) joins 0.
    assert dendrogram.report_merges(linkage, 3) == {"merge_2_1": 2., "merge_0_2": 4., "merge_0_1": 4.}
    assert dendrogram.merge_keys(np.array([[0.3, 0.7]])) == {}  # nothing to merge (the reference raises)
