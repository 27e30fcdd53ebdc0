"""Tests of dlib_torch/utils/sklearn_warnings.py: ConvergenceWarnings are counted once per metric, values kept."""
import warnings

import numpy as np
from sklearn import linear_model
from sklearn.exceptions import ConvergenceWarning

from dlib_torch.evaluation.metrics import parallel
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import sklearn_warnings


def _tasks():
    """Fits that stop before converging (one iteration each), as the metrics' fits of utils.fit_and_score."""
    tasks = []
    for seed in range(3):
        random_state = np.random.RandomState(seed)
        x, y = random_state.randn(200, 5), random_state.randint(2, size=200)
        tasks.append((linear_model.LogisticRegression(max_iter=1), x, y, x[:50], y[:50], True))
    return tasks


def test_warnings_of_parallel_fits_are_counted_in_one_line():
    lines = []
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with sklearn_warnings.counted("mig", log=lambda *args: lines.append(args[0] % args[1:])):
            serial = parallel.map_in_parallel(utils.fit_and_score, _tasks(), jobs=1)
            in_workers = parallel.map_in_parallel(utils.fit_and_score, _tasks(), jobs=2)
            warnings.warn("something else", UserWarning)
    assert [w.category for w in shown] == [UserWarning]
    assert len(lines) == 1 and lines[0].startswith("mig: scikit-learn reported 6 ConvergenceWarnings (first: ")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        quiet = [utils.fit_and_score(*task) for task in _tasks()]
    for a, b, c in zip(serial, in_workers, quiet):
        assert a[:2] == b[:2] == c[:2]
        np.testing.assert_array_equal(a[2].coef_, b[2].coef_)
        np.testing.assert_array_equal(a[2].coef_, c[2].coef_)


def test_without_a_counter_the_warnings_are_raised_again():
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        parallel.map_in_parallel(utils.fit_and_score, _tasks()[:2], jobs=1)
    assert [w.category for w in shown] == [ConvergenceWarning, ConvergenceWarning]
