"""Unified scores: parity with the reference's function (same samples, same tree seeds), its keys, and the
pictures and merge keys it writes with an artifact directory."""
import inspect
import os
import sys

import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import unified_scores
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import reference_lib
from dlib_torch.visualize import dendrogram
from dlib_torch.visualize import visualize_scores

MATRIX_NAMES = ["importance_gbt_matrix", "mutual_information_matrix", "accuracy_svm_matrix"]


@pytest.fixture(scope="session")
def reference_unified_scores(reference_modules, tmp_path_factory):
    """The reference's unified_scores module (TensorFlow and seaborn, for its pictures only, stood in for)."""
    target = reference_lib.install(str(tmp_path_factory.getbasetemp().parent / "disentanglement_lib_1_5"))
    module = reference_lib.load(target, metric_modules=("unified_scores",), picture_stand_ins=True).unified_scores
    assert "tensorflow" not in sys.modules and "seaborn" not in sys.modules
    return module


def _bind_discretizer(reference):
    gin.bind_parameter("discretizer.discretizer_fn", utils._histogram_discretize)  # pylint: disable=protected-access
    gin.bind_parameter("discretizer.num_bins", 20)
    reference.gin.bind("discretizer", num_bins=20,
                       discretizer_fn=reference.utils._histogram_discretize)  # pylint: disable=protected-access


def test_parity_with_reference(reference, reference_unified_scores, seed_reference_trees, toy_data, representation):
    """Same samples, trees seeded alike and scikit-learn's current SVM defaults: the reference's numbers."""
    _, representation_function = representation
    _bind_discretizer(reference)
    gin.bind_parameter("sklearn_defaults.version", "installed")
    seed_reference_trees(0)  # the seed our importance_gbt_matrix gives its trees
    ours = unified_scores.compute_unified_scores(
        toy_data, representation_function, np.random.RandomState(3), num_train=300, num_test=200,
        matrix_fns=[unified_scores.importance_gbt_matrix, unified_scores.mutual_information_matrix,
                    unified_scores.accuracy_svm_matrix])
    theirs = reference_unified_scores.compute_unified_scores(
        toy_data, representation_function, np.random.RandomState(3), num_train=300, num_test=200,
        matrix_fns=[reference_unified_scores.importance_gbt_matrix, reference_unified_scores.mutual_information_matrix,
                    reference_unified_scores.accuracy_svm_matrix])
    assert sorted(ours) == sorted(theirs)
    assert ours == pytest.approx({key: float(value) for key, value in theirs.items()}, abs=1e-12)


def test_validation_parity(reference, reference_unified_scores, toy_data):
    labels, observations = toy_data.sample(300, np.random.RandomState(0))
    _bind_discretizer(reference)
    ours = unified_scores.compute_unified_score_on_fixed_data(
        observations, labels.T, lambda x: x[:, :4], train_percentage=0.75,
        matrix_fns=[unified_scores.mutual_information_matrix])
    theirs = reference_unified_scores.compute_unified_score_on_fixed_data(
        observations, labels.T, lambda x: x[:, :4], train_percentage=0.75,
        matrix_fns=[reference_unified_scores.mutual_information_matrix])
    assert ours == pytest.approx({key: float(value) for key, value in theirs.items()}, abs=1e-12)


def test_keys_and_values_of_an_identity_code():
    """Every reference key for each matrix; an identity code is perfectly disentangled by every aggregation."""
    rs = np.random.RandomState(0)
    factors = rs.randint(4, size=(400, 3))
    codes = factors + 0.05 * rs.normal(size=factors.shape)
    scores = unified_scores.unified_scores_from_codes(codes[:300], factors[:300], codes[300:], factors[300:])
    for name in MATRIX_NAMES:
        expected = {"area_precision", "max_precision", "dci_disentanglement", "dci_completeness", "dci", "mig",
                    "sap", "modularity"}
        expected |= {"{}.code_{}".format(key, i) for key in ("dci_disentanglement", "dci_completeness",
                                                               "modularity") for i in range(3)}
        expected |= {"{}.factor_{}".format(key, i) for key in ("mig", "sap") for i in range(3)}
        assert {key[len(name) + 1:] for key in scores if key.startswith(name + ".")} == expected
        assert scores[name + ".max_precision"] == 3  # three factors, each in a group of its own
    assert scores["importance_gbt_matrix.dci"] > 0.95
    assert scores["mutual_information_matrix.mig"] > 0.9
    assert scores["accuracy_svm_matrix.sap"] > 0.3  # a linear SVM on one code tells 4 ordered values apart poorly
    assert scores["mutual_information_matrix.modularity"] > 0.95


def test_pictures_and_merge_keys_on_a_data_set_without_factor_names(tmp_path):
    """The reference needed factor names (only its test data set had them); any data set works here."""
    class Unnamed(dummy_data.IdentityObservationsData):
        factor_names = None

    data = Unnamed()
    assert unified_scores.factor_names_of(data) == ["factor_{}".format(i) for i in range(data.num_factors)]
    artifact_dir = str(tmp_path / "artifacts")
    scores = unified_scores.compute_unified_scores(data, lambda x: np.asarray(x, np.float64), np.random.RandomState(0),
                                                   artifact_dir, num_train=200, num_test=100,
                                                   matrix_fns=[unified_scores.mutual_information_matrix])
    assert sorted(os.listdir(artifact_dir)) == ["mutual_information_matrix.png",
                                                "mutual_information_matrix_dendrogram.png",
                                                "mutual_information_matrix_pr.png"]
    merges = {key for key in scores if ".merge_" in key}
    assert len(merges) == data.num_factors * (data.num_factors - 1) // 2  # every pair of factors merges once


def test_precision_recall_and_merges_of_a_small_matrix():
    # Factors (rows) x codes: factor 0 -> code 0 (0.9), factor 1 -> code 1 (0.8), factor 2 shares code 1 (0.5).
    matrix = np.array([[0.9, 0.0, 0.1], [0.0, 0.8, 0.0], [0.0, 0.5, 0.2]])
    assert visualize_scores.precision(matrix, 0.85) == 1
    assert visualize_scores.precision(matrix, 0.75) == 2
    assert visualize_scores.precision(matrix, 0.5) == 2  # factors 1 and 2 now share code 1: one group
    assert visualize_scores.recall(matrix, 0.5) == 3
    linkage, discovered, thresholds = dendrogram.merge_events(matrix)
    assert list(thresholds[:3]) == [0.9, 0.8, 0.5]
    assert discovered[0] == 0 and discovered[1] == 1 and discovered[2] == 2
    # Edge 3 (0.5) joins factor 2 to factor 1's group; edge 5 (0.1, code 2 linked to factor 2 at 0.2) joins 0.
    assert dendrogram.report_merges(linkage, 3) == {"merge_2_1": 2., "merge_0_2": 4., "merge_0_1": 4.}


def test_every_public_reference_function_exists_with_its_signature(reference, reference_unified_scores):
    public = {name: function for name, function in vars(reference_unified_scores).items()
              if callable(function) and not name.startswith("_")
              and getattr(function, "__module__", None) == reference_unified_scores.__name__}
    assert len(public) == 13
    for name, theirs in public.items():
        their_params = list(inspect.signature(theirs).parameters.values())
        ours = list(inspect.signature(getattr(unified_scores, name)).parameters.values())[:len(their_params)]
        assert [p.name for p in ours] == [p.name for p in their_params], name
        for our_param, their_param in zip(ours, their_params):
            if their_param.default is reference_unified_scores.gin.REQUIRED:
                assert our_param.default is gin.REQUIRED, (name, our_param.name)
            else:
                assert our_param.default == their_param.default, (name, our_param.name)
