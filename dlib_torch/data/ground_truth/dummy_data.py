"""Dummy data sets of disentanglement_lib used by the tests."""
import numpy as np

from dlib_torch.data.ground_truth import ground_truth_data


class IdentityObservationsData(ground_truth_data.GroundTruthData):
    """Data set whose observations are the factors themselves (10 factors, values 1..10).

    As in disentanglement_lib, `factors_num_values` reports [1] * 10 although the values range over 1..10;
    the metric tests rely on exactly this behaviour.
    """

    @property
    def num_factors(self):
        return 10

    @property
    def observation_shape(self):
        return 10

    @property
    def factors_num_values(self):
        return [1] * 10

    @property
    def factor_names(self):
        return ["factor_{}".format(i) for i in range(10)]

    def sample_factors(self, num, random_state):
        return random_state.randint(1, 11, size=(num, self.num_factors))

    def sample_observations_from_factors(self, factors, random_state):
        return factors


class DummyData(ground_truth_data.GroundTruthData):
    """Images of uniform noise, independent of 10 factors with 5 values each (for pipeline tests)."""

    num_factors = 10
    factors_num_values = [5] * 10
    observation_shape = [64, 64, 1]

    def sample_factors(self, num, random_state):
        return random_state.randint(5, size=(num, self.num_factors))

    def sample_observations_from_factors(self, factors, random_state):
        return random_state.random_sample(size=(factors.shape[0], 64, 64, 1)).astype(np.float32)
