"""Parallel fits: the number of jobs (gin, environment, all cores) and results identical to a serial run."""
import gin
import joblib
import pytest

from dlib_torch.evaluation.metrics import parallel
from dlib_torch.utils.errors import ConfigError


def test_num_jobs_sources(monkeypatch):
    monkeypatch.delenv(parallel.NUM_JOBS_ENV)
    assert parallel.num_jobs() == joblib.cpu_count()
    monkeypatch.setenv(parallel.NUM_JOBS_ENV, "3")
    assert parallel.num_jobs() == 3
    gin.bind_parameter("parallel_fits.num_jobs", 2)
    assert parallel.num_jobs() == 2


@pytest.mark.parametrize("source, value", [("env", "many"), ("env", "0"), ("gin", -1)])
def test_invalid_num_jobs_are_clear_errors(monkeypatch, source, value):
    if source == "env":
        monkeypatch.setenv(parallel.NUM_JOBS_ENV, value)
        expected = parallel.NUM_JOBS_ENV
    else:
        gin.bind_parameter("parallel_fits.num_jobs", value)
        expected = "parallel_fits.num_jobs"
    with pytest.raises(ConfigError, match=expected):
        parallel.num_jobs()


def test_results_keep_the_task_order_whatever_the_costs():
    # Worker processes import the task function, so it must live in an importable module (a builtin here).
    tasks = [(value, 7) for value in range(7)]
    serial = parallel.map_in_parallel(divmod, tasks, jobs=1)
    assert serial == [divmod(value, 7) for value in range(7)]
    assert parallel.map_in_parallel(divmod, tasks, costs=[1, 5, 2, 7, 0, 3, 3], jobs=2) == serial
