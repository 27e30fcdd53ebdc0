"""IRS: the reference's expectations, parity with its code and the num_active_dims flag."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import irs


def _identity_discretizer(target, num_bins):
    del num_bins
    return target


@pytest.mark.parametrize("representation_function, low, high", [
    (lambda x: np.array(x, dtype=np.float64), 0.9, 1.0),
    (lambda x: np.zeros_like(x, dtype=np.float64), 0.0, 0.1),
])
def test_reference_expectations(representation_function, low, high):
    gin.bind_parameter("discretizer.discretizer_fn", _identity_discretizer)
    gin.bind_parameter("discretizer.num_bins", 10)
    scores = irs.compute_irs(dummy_data.IdentityObservationsData(), representation_function,
                             np.random.RandomState(0), None, 0.99, 3000, 3000)
    assert low <= scores["IRS"] <= high


def test_drop_constant_dims():
    ys = np.random.RandomState(0).normal(0.0, 1.0, (100, 100))
    ys[0, :] = 1.
    ys[-1, :] = 0.
    np.testing.assert_array_equal(irs._drop_constant_dims(ys), ys[1:-1])


@pytest.mark.parametrize("diff_quantile", [0.99, 1.0])
def test_parity_with_reference(reference, toy_data, representation, diff_quantile):
    _, representation_function = representation
    gin.parse_config(["discretizer.discretizer_fn = @histogram_discretizer", "discretizer.num_bins = 20"])
    reference.gin.bind("discretizer", discretizer_fn=reference.utils._histogram_discretize, num_bins=20)
    ours = irs.compute_irs(toy_data, representation_function, np.random.RandomState(0), None, diff_quantile,
                           num_train=1000, batch_size=16)
    theirs = reference.irs.compute_irs(toy_data, representation_function, np.random.RandomState(0), None,
                                       diff_quantile, num_train=1000, batch_size=16)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_num_active_dims_keeps_the_reference_bug_unless_fixed():
    random_state = np.random.RandomState(0)
    factors = random_state.randint(5, size=(300, 2))
    codes = np.hstack([factors + 0.1 * random_state.normal(size=(300, 2)), np.full((300, 1), 3.)])
    buggy = irs.irs_from_codes(codes, factors)
    assert buggy["num_active_dims"] == pytest.approx(np.sum(codes[:, :2]))  # the sum of the active codes
    gin.bind_parameter("irs.fix_num_active_dims", True)
    gin.parse_config(["discretizer.discretizer_fn = @histogram_discretizer", "discretizer.num_bins = 20"])
    fixed = irs.compute_irs(dummy_data.IdentityObservationsData(), lambda x: x[:, :3] * [1., 1., 0.],
                            np.random.RandomState(0), num_train=200, batch_size=16)
    assert fixed["num_active_dims"] == 2
    assert buggy["IRS"] == irs.irs_from_codes(codes, factors, fix_num_active_dims=True)["IRS"] > 0.8
