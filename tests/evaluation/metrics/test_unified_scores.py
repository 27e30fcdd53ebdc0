"""Unified scores: parity with the reference's function (same samples, same tree seeds), its keys, and the
merge keys and pictures (handed to the evaluation stage) with an artifact directory."""
import inspect
import os

import gin
from matplotlib import pyplot
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import unified_scores
from dlib_torch.evaluation.metrics import utils
from dlib_torch.evaluation import evaluate
from dlib_torch.evaluation.metrics import artifacts

MATRIX_NAMES = ["importance_gbt_matrix", "mutual_information_matrix", "accuracy_svm_matrix"]


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
    """The reference needed factor names (only its test data set had them); any data set works here. The metric
    hands its matrices over; the evaluation stage draws them (here called as it calls it)."""
    class Unnamed(dummy_data.IdentityObservationsData):
        factor_names = None

    data = Unnamed()
    assert unified_scores.factor_names_of(data) == ["factor_{}".format(i) for i in range(data.num_factors)]
    artifact_dir = str(tmp_path / "artifacts")
    with artifacts.collected() as handed:
        scores = unified_scores.compute_unified_scores(
            data, lambda x: np.asarray(x, np.float64), np.random.RandomState(0), artifact_dir, num_train=200,
            num_test=100, matrix_fns=[unified_scores.mutual_information_matrix])
    assert [(a.directory, a.name, a.matrix.shape) for a in handed] == [
        (artifact_dir, "mutual_information_matrix", (data.num_factors, data.num_factors))]
    assert not os.path.exists(artifact_dir)  # the metric itself draws nothing
    evaluate.draw_artifacts(handed)
    assert sorted(os.listdir(artifact_dir)) == ["mutual_information_matrix.png",
                                                "mutual_information_matrix_dendrogram.png",
                                                "mutual_information_matrix_pr.png"]
    merges = {key for key in scores if ".merge_" in key}
    assert len(merges) == data.num_factors * (data.num_factors - 1) // 2  # every pair of factors merges once


def test_merge_keys_are_the_references_where_svm_accuracies_tie(reference_unified_scores, tmp_path):
    """Single-code SVM accuracies on few test points tie often; the merge keys follow the reference's order."""
    rs = np.random.RandomState(0)
    factors = rs.randint(3, size=(260, 4))
    codes = np.round(factors + rs.normal(0, 0.6, size=factors.shape))
    mus_train, ys_train, mus_test, ys_test = codes[:200].T, factors[:200].T, codes[200:].T, factors[200:].T
    ours = unified_scores.unified_scores(mus_train, ys_train, mus_test, ys_test,
                                         [unified_scores.accuracy_svm_matrix], str(tmp_path))
    matrix = reference_unified_scores.accuracy_svm_matrix(mus_train, ys_train, mus_test, ys_test)
    assert len(np.unique(matrix)) < matrix.size  # tied accuracies
    theirs = reference_unified_scores.dendrogram.dendrogram_plot(matrix.T, str(tmp_path / "theirs"), list("abcd"))
    pyplot.close("all")
    assert {key[len("accuracy_svm_matrix."):]: value for key, value in ours.items() if ".merge_" in key} == \
        {key: float(value) for key, value in theirs.items()}


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
