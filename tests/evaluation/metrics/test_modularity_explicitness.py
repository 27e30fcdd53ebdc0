"""Modularity and explicitness: the reference's expectations and parity with its code."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import modularity_explicitness

DIAGONAL = np.diag(5. * np.ones(5))


@pytest.mark.parametrize("mutual_information, expected", [
    (DIAGONAL, 1.),
    (np.array([[1., 0.], [0., 1.], [0., 0.]]), 2. / 3.),  # empty codes
    (np.zeros([10, 10]), 0.),
    (np.vstack([DIAGONAL, DIAGONAL]), 1.),  # redundant codes
    (DIAGONAL[:2, :], 1.),  # missed factors
    (np.hstack([DIAGONAL, DIAGONAL]), 1. - 1. / 9),  # one code, two factors
])
def test_pure_matrix_expectations(mutual_information, expected):
    np.testing.assert_allclose(modularity_explicitness.modularity(mutual_information), expected)


def _identity_discretizer(target, num_bins):
    del num_bins
    return target


def _permuting_representation(x):
    code = np.array(x, dtype=np.float64)
    random_state = np.random.RandomState(len(code))
    for i in range(code.shape[0]):
        code[i, :] = random_state.permutation(code[i, :])
    return code


@pytest.mark.parametrize("representation_function, num_points, low, high", [
    (lambda x: np.array(x, dtype=np.float64), 3000, 0.9, 1.),
    (_permuting_representation, 20000, 0., 0.2),
    (lambda x: np.hstack([x, x]).astype(np.float64), 3000, 0.9, 1.),  # duplicated latent space
])
def test_reference_expectations(representation_function, num_points, low, high):
    gin.bind_parameter("discretizer.discretizer_fn", _identity_discretizer)
    gin.bind_parameter("discretizer.num_bins", 10)
    scores = modularity_explicitness.compute_modularity_explicitness(
        dummy_data.IdentityObservationsData(), representation_function, np.random.RandomState(0), None,
        num_points, num_points)
    assert low <= scores["modularity_score"] <= high


@pytest.mark.parametrize("sklearn_version", ["0.20", "installed"])
def test_parity_with_reference(reference, legacy_reference, toy_data, representation, sklearn_version,
                               monkeypatch):
    if sklearn_version == "installed":  # undo the legacy_reference fixture's patches
        monkeypatch.undo()
    _, representation_function = representation
    gin.parse_config(["discretizer.discretizer_fn = @histogram_discretizer", "discretizer.num_bins = 20",
                      "sklearn_defaults.version = '{}'".format(sklearn_version)])
    reference.gin.bind("discretizer", discretizer_fn=reference.utils._histogram_discretize, num_bins=20)
    ours = modularity_explicitness.compute_modularity_explicitness(toy_data, representation_function,
                                                                   np.random.RandomState(0), None, 600, 300)
    theirs = reference.modularity_explicitness.compute_modularity_explicitness(
        toy_data, representation_function, np.random.RandomState(0), None, 600, 300)
    assert ours == pytest.approx(theirs, abs=1e-9)


def test_explicitness_separates_good_and_useless_codes():
    random_state = np.random.RandomState(0)
    factors = random_state.randint(4, size=(800, 2))
    good = factors + random_state.normal(scale=0.1, size=(800, 2))
    noise = random_state.normal(size=(800, 2))
    scores = [modularity_explicitness.modularity_explicitness_from_codes(codes[:600], factors[:600], codes[600:],
                                                                         factors[600:]) for codes in (good, noise)]
    assert scores[0]["explicitness_score_test"] > 0.9
    assert scores[1]["explicitness_score_test"] < 0.6
    assert scores[0]["modularity_score"] > 0.9
