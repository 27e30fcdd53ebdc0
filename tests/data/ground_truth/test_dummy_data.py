import numpy as np

from dlib_torch.data.ground_truth import dummy_data


def test_dummy_data_shapes_and_range():
    data = dummy_data.DummyData()
    factors, observations = data.sample(7, np.random.RandomState(0))
    assert factors.shape == (7, 10) and factors.max() <= 4 and factors.min() >= 0
    assert observations.shape == (7, 64, 64, 1) and observations.dtype == np.float32
    assert 0.0 <= observations.min() and observations.max() <= 1.0


def test_identity_observations_are_the_factors():
    data = dummy_data.IdentityObservationsData()
    factors, observations = data.sample(100, np.random.RandomState(0))
    np.testing.assert_array_equal(factors, observations)
    assert factors.min() >= 1 and factors.max() <= 10
    assert data.factors_num_values == [1] * 10  # the reference's quirk, kept for its metric tests
