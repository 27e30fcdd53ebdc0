"""MIG: the reference's expectations, and parity with its code on synthetic representations."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import mig
from dlib_torch.evaluation.metrics import utils


def _identity_discretizer(target, num_bins):
    del num_bins
    return target


@pytest.fixture
def identity_discretizer():
    gin.bind_parameter("discretizer.discretizer_fn", _identity_discretizer)
    gin.bind_parameter("discretizer.num_bins", 10)


@pytest.mark.parametrize("representation_function, low, high", [
    (lambda x: x, 0.9, 1.0),
    (np.zeros_like, 0.0, 0.2),
    (lambda x: np.hstack([x, x]).astype(np.float64), 0.0, 0.1),  # duplicated latent space
])
def test_reference_expectations(identity_discretizer, representation_function, low, high):
    scores = mig.compute_mig(dummy_data.IdentityObservationsData(), representation_function,
                             np.random.RandomState(0), None, 3000)
    assert low <= scores["discrete_mig"] <= high


def test_parity_with_reference(reference, toy_data, representation):
    _, representation_function = representation
    gin.parse_config(["discretizer.discretizer_fn = @histogram_discretizer", "discretizer.num_bins = 20"])
    reference.gin.bind("discretizer", discretizer_fn=reference.utils._histogram_discretize, num_bins=20)
    ours = mig.compute_mig(toy_data, representation_function, np.random.RandomState(1), num_train=2000)
    theirs = reference.mig.compute_mig(toy_data, representation_function, np.random.RandomState(1), num_train=2000)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_validation_parity(reference, toy_data):
    gin.parse_config(["discretizer.discretizer_fn = @histogram_discretizer", "discretizer.num_bins = 20"])
    reference.gin.bind("discretizer", discretizer_fn=reference.utils._histogram_discretize, num_bins=20)
    labels, observations = toy_data.sample(500, np.random.RandomState(0))
    ours = mig.compute_mig_on_fixed_data(observations, labels.T, REPRESENTATION)
    theirs = reference.mig.compute_mig_on_fixed_data(observations, labels.T, REPRESENTATION)
    assert ours == pytest.approx(theirs, abs=1e-12)


def REPRESENTATION(observations):
    return observations[:, :3] + 0.1 * observations[:, 3:]


def test_from_codes_is_what_the_entry_computes(toy_data):
    gin.parse_config(["discretizer.discretizer_fn = @histogram_discretizer", "discretizer.num_bins = 20"])
    scores = mig.compute_mig(toy_data, REPRESENTATION, np.random.RandomState(0), num_train=500)
    codes, factors = utils.generate_batch_factor_code(toy_data, REPRESENTATION, 500, np.random.RandomState(0), 16)
    assert mig.mig_from_codes(codes.T, factors.T) == scores
    assert 0.5 < scores["discrete_mig"] <= 1.
