"""BetaVAE score: the reference's expectations, parity with its code, and the array-level entry."""
import itertools

import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import beta_vae


def test_reference_expectations():
    scores = beta_vae.compute_beta_vae_sklearn(dummy_data.IdentityObservationsData(), lambda x: x,
                                               np.random.RandomState(0), None, 5, 2000, 2000)
    assert 0.9 <= scores["train_accuracy"] <= 1.0
    assert 0.9 <= scores["eval_accuracy"] <= 1.0


def test_parity_with_reference_under_sklearn_0_20(legacy_reference, toy_data, representation):
    _, representation_function = representation
    ours = beta_vae.compute_beta_vae_sklearn(toy_data, representation_function, np.random.RandomState(0),
                                             batch_size=8, num_train=300, num_eval=200)
    theirs = legacy_reference.beta_vae.compute_beta_vae_sklearn(
        toy_data, representation_function, np.random.RandomState(0), batch_size=8, num_train=300, num_eval=200)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_parity_with_reference_under_installed_sklearn(reference, toy_data, representation):
    _, representation_function = representation
    gin.bind_parameter("sklearn_defaults.version", "installed")
    ours = beta_vae.compute_beta_vae_sklearn(toy_data, representation_function, np.random.RandomState(0),
                                             batch_size=8, num_train=300, num_eval=200)
    theirs = reference.beta_vae.compute_beta_vae_sklearn(
        toy_data, representation_function, np.random.RandomState(0), batch_size=8, num_train=300, num_eval=200)
    assert ours == pytest.approx(theirs, abs=1e-12)


def _grid(factors_num_values):
    return np.array(list(itertools.product(*[range(n) for n in factors_num_values])))


def test_from_codes_on_the_factor_grid(toy_data):
    """On the codes of the whole grid, the array-level score estimates the sampled one."""
    factors = _grid(toy_data.factors_num_values)
    noise = np.random.RandomState(0).normal(size=(len(factors), 3))
    identity = beta_vae.beta_vae_from_codes(factors.astype(float), factors, 0, batch_size=8, num_train=300,
                                            num_eval=200)
    assert identity["eval_accuracy"] >= 0.9
    useless = beta_vae.beta_vae_from_codes(noise, factors, 0, batch_size=8, num_train=300, num_eval=200)
    assert useless["eval_accuracy"] <= 0.55  # chance is 1/3
    sampled = beta_vae.compute_beta_vae_sklearn(toy_data, lambda x: x[:, 3:], np.random.RandomState(0),
                                                batch_size=8, num_train=300, num_eval=200)
    assert useless["eval_accuracy"] == pytest.approx(sampled["eval_accuracy"], abs=0.15)


def test_from_codes_pairs_share_the_fixed_factor():
    """The second batch of each pair is drawn among rows with the same value of the fixed factor."""
    factors = _grid([2, 3])
    codes = factors.astype(float)
    # A code that only shows factor 1: pairs fixing factor 1 have zero difference, so they are told apart.
    scores = beta_vae.beta_vae_from_codes(codes[:, 1:], factors, 0, batch_size=4, num_train=200, num_eval=200)
    assert scores["eval_accuracy"] > 0.7
