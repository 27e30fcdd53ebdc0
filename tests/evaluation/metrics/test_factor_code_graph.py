"""Independent groups and discovered factors of a thresholded factor-code matrix, as the reference counts them."""
import numpy as np

from dlib_torch.evaluation.metrics import factor_code_graph


def test_precision_and_recall_of_a_small_matrix():
    # Factors (rows) x codes: factor 0 -> code 0 (0.9), factor 1 -> code 1 (0.8), factor 2 shares code 1 (0.5).
    matrix = np.array([[0.9, 0.0, 0.1], [0.0, 0.8, 0.0], [0.0, 0.5, 0.2]])
    assert factor_code_graph.precision(matrix, 0.85) == 1
    assert factor_code_graph.precision(matrix, 0.75) == 2
    assert factor_code_graph.precision(matrix, 0.5) == 2  # factors 1 and 2 now share code 1: one group
    assert factor_code_graph.recall(matrix, 0.85) == 1
    assert factor_code_graph.recall(matrix, 0.5) == 3


def test_the_references_counts(reference_unified_scores):
    rs = np.random.RandomState(1)
    for _ in range(20):
        matrix = rs.randint(0, 4, size=(rs.randint(1, 6), rs.randint(1, 6))) / 3.
        for threshold in np.unique(matrix):
            assert factor_code_graph.precision(matrix, threshold) == \
                reference_unified_scores.visualize_scores.precision(matrix, threshold)
            assert factor_code_graph.recall(matrix, threshold) == \
                reference_unified_scores.visualize_scores.recall(matrix, threshold)
