"""FactorVAE score: the reference's expectations, parity, the num_active_dims flag and the array-level entry."""
import itertools

import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import factor_vae


@pytest.mark.parametrize("representation_function, low, high", [(lambda x: x, 0.9, 1.0), (np.zeros_like, 0., 0.2)])
def test_reference_expectations(representation_function, low, high):
    scores = factor_vae.compute_factor_vae(dummy_data.IdentityObservationsData(), representation_function,
                                           np.random.RandomState(0), None, 5, 3000, 2000, 2500)
    assert low <= scores["train_accuracy"] <= high
    assert low <= scores["eval_accuracy"] <= high


@pytest.mark.parametrize("threshold", [0., 0.5])
def test_parity_with_reference(reference, toy_data, representation, threshold):
    _, representation_function = representation
    gin.bind_parameter("prune_dims.threshold", threshold)
    reference.gin.bind("prune_dims", threshold=threshold)
    ours = factor_vae.compute_factor_vae(toy_data, representation_function, np.random.RandomState(0),
                                         batch_size=10, num_train=300, num_eval=200, num_variance_estimate=500)
    theirs = reference.factor_vae.compute_factor_vae(toy_data, representation_function, np.random.RandomState(0),
                                                     batch_size=10, num_train=300, num_eval=200,
                                                     num_variance_estimate=500)
    assert ours == pytest.approx(theirs, abs=1e-12)


def _half_collapsed(observations):
    return np.hstack([observations[:, :3], np.zeros((len(observations), 2))])


def test_num_active_dims_keeps_the_reference_bug_unless_fixed(toy_data):
    gin.bind_parameter("prune_dims.threshold", 0.05)
    arguments = dict(batch_size=10, num_train=100, num_eval=100, num_variance_estimate=200)
    buggy = factor_vae.compute_factor_vae(toy_data, _half_collapsed, np.random.RandomState(0), **arguments)
    fixed = factor_vae.compute_factor_vae(toy_data, _half_collapsed, np.random.RandomState(0),
                                          fix_num_active_dims=True, **arguments)
    assert buggy["num_active_dims"] == 5  # len(mask): every dimension
    assert fixed["num_active_dims"] == 3
    assert buggy["eval_accuracy"] == fixed["eval_accuracy"]


def test_gin_flag_fixes_num_active_dims(toy_data):
    gin.parse_config(["factor_vae_score.fix_num_active_dims = True", "prune_dims.threshold = 0.05"])
    scores = factor_vae.compute_factor_vae(toy_data, _half_collapsed, np.random.RandomState(0), batch_size=10,
                                           num_train=50, num_eval=50, num_variance_estimate=200)
    assert scores["num_active_dims"] == 3


def test_from_codes_on_the_factor_grid():
    factors = np.array(list(itertools.product(range(3), range(4), range(5))))
    random_state = np.random.RandomState(0)
    identity = factor_vae.factor_vae_from_codes(factors.astype(float), factors, 0, batch_size=10, num_train=300,
                                                num_eval=200, num_variance_estimate=500)
    assert identity["eval_accuracy"] >= 0.95
    noise = random_state.normal(size=(len(factors), 3))
    useless = factor_vae.factor_vae_from_codes(noise, factors, 0, batch_size=10, num_train=300, num_eval=200,
                                               num_variance_estimate=500)
    assert useless["eval_accuracy"] <= 0.6
    collapsed = factor_vae.factor_vae_from_codes(np.zeros((len(factors), 2)), factors)
    assert collapsed == {"train_accuracy": 0., "eval_accuracy": 0., "num_active_dims": 0}
