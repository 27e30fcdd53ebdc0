"""A view of a ground-truth data set whose observations are factor-row ids instead of images.

The metrics only pass observations from `ground_truth_data` to `representation_function`, so a data set whose
"observations" are the rows of their factors in the factor grid (row-major, `util.factors_to_rows`), paired
with a representation function that looks those rows up, computes the same metric without rendering an
image per sample. Metric code is unchanged: it samples factors from the real data set through this view.
"""
import numpy as np

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import util


class RowObservations(ground_truth_data.DataView):
    """`data` with observations replaced by int64 factor-row ids [B] (factors are sampled by `data` itself).

    Every property is `data`'s, `observation_shape` included (it describes the images the ids stand for).
    """

    def __init__(self, data):
        super().__init__(data)
        self.data = data
        self.factor_sizes = [int(size) for size in data.factors_num_values]

    def sample_observations_from_factors(self, factors, random_state):
        del random_state  # rows are a function of the factors; see consumes_random_state()
        return util.factors_to_rows(factors, self.factor_sizes)

    def rows_to_factors(self, rows):
        """Factor indices [B, num_factors] of factor-row ids."""
        return util.rows_to_factors(np.asarray(rows, dtype=np.int64).reshape(-1), self.factor_sizes)


def consumes_random_state(data, num_probe=8):
    """True if rendering observations of `data` draws from the random state it is given.

    The view above draws nothing where the real data set renders, so it reproduces the metrics' random streams
    exactly only for data sets that draw nothing there either (e.g. dSprites, whose single-valued colour factor
    is "sampled" without a draw).
    """
    random_state = np.random.RandomState(0)
    before = random_state.get_state()
    factors = data.sample_factors(num_probe, np.random.RandomState(1))
    data.sample_observations_from_factors(factors, random_state)
    after = random_state.get_state()
    return not (np.array_equal(before[1], after[1]) and before[2:] == after[2:])
