"""Tests of dlib_torch/utils/threads.py: the thread count follows what the process may use."""
import os

import pytest

from dlib_torch.utils import threads
from dlib_torch.utils.errors import ConfigError


def _cgroup(tmp_path, v2=None, v1=None):
    root = tmp_path / "cgroup"
    root.mkdir(parents=True)
    if v2 is not None:
        (root / "cpu.max").write_text(v2 + "\n")
    if v1 is not None:
        (root / "cpu").mkdir()
        (root / "cpu" / "cpu.cfs_quota_us").write_text("{}\n".format(v1[0]))
        (root / "cpu" / "cpu.cfs_period_us").write_text("{}\n".format(v1[1]))
    return str(root)


def test_cgroup_quota_v2_and_v1(tmp_path):
    assert threads.cgroup_cpu_quota(_cgroup(tmp_path / "a", v2="150000 100000")) == 1.5
    assert threads.cgroup_cpu_quota(_cgroup(tmp_path / "b", v2="max 100000")) is None
    assert threads.cgroup_cpu_quota(_cgroup(tmp_path / "c", v1=(300000, 100000))) == 3
    assert threads.cgroup_cpu_quota(_cgroup(tmp_path / "d", v1=(-1, 100000))) is None
    assert threads.cgroup_cpu_quota(str(tmp_path / "none")) is None


def test_the_smallest_limit_wins(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    no_quota = str(tmp_path / "none")
    assert threads.available_cpus({}, no_quota) == (affinity, "CPU affinity")
    assert threads.available_cpus({"SLURM_CPUS_PER_TASK": "1"}, no_quota) == (1, "SLURM_CPUS_PER_TASK") \
        or affinity == 1
    quota = _cgroup(tmp_path / "q", v2="50000 100000")  # half a CPU: one thread
    assert threads.available_cpus({}, quota)[0] == 1
    assert threads.available_cpus({"SLURM_CPUS_PER_TASK": "many"}, no_quota) == (affinity, "CPU affinity")


def test_choice_explicit_then_omp_then_available(tmp_path):
    no_quota = str(tmp_path / "none")
    assert threads.choose_num_threads(3, "training_runtime.num_threads", {"OMP_NUM_THREADS": "1"}, no_quota) == \
        (3, "training_runtime.num_threads")
    assert threads.choose_num_threads(None, "p", {"OMP_NUM_THREADS": "2"}, no_quota) == (2, "OMP_NUM_THREADS")
    count, why = threads.choose_num_threads("auto", "p", {}, no_quota)
    assert count == len(os.sched_getaffinity(0)) and why.startswith("CPU affinity allows")
    with pytest.raises(ConfigError, match=r"training_runtime.num_threads = 0 is out of range"):
        threads.choose_num_threads(0, "training_runtime.num_threads", {}, no_quota)
    with pytest.raises(ConfigError, match="OMP_NUM_THREADS is 'x'"):
        threads.choose_num_threads(None, "p", {"OMP_NUM_THREADS": "x"}, no_quota)
