"""How many CPU threads a run uses: what the process may use, not how many cores the machine has.

torch and BLAS default to every core of the machine, which on a shared node (a SLURM task with a few CPUs, a
container with a CPU quota, a job pinned with taskset) oversubscribes the cores the process may use and slows
it several-fold. `available_cpus` takes the smallest of the CPU affinity, the cgroup CPU quota and
$SLURM_CPUS_PER_TASK; $OMP_NUM_THREADS, when set, is the user's choice and wins. Nothing here imports torch
at module level, so the command-line stages can import it cheaply.
"""
import math
import os

from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError

CGROUP_ROOT = "/sys/fs/cgroup"


def cgroup_cpu_quota(root=CGROUP_ROOT):
    """The CPUs the cgroup quota allows (a float, e.g. 1.5), or None without a quota (cgroup v2, then v1)."""
    try:
        with open(os.path.join(root, "cpu.max")) as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(root, "cpu", "cpu.cfs_quota_us")) as f:
            quota = int(f.read())
        with open(os.path.join(root, "cpu", "cpu.cfs_period_us")) as f:
            period = int(f.read())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def available_cpus(environ=None, cgroup_root=CGROUP_ROOT):
    """(number of CPUs this process may use, what limits it): the smallest of the CPU affinity, the cgroup
    quota (rounded down, at least 1) and $SLURM_CPUS_PER_TASK."""
    environ = os.environ if environ is None else environ
    if hasattr(os, "sched_getaffinity"):
        limits = [(len(os.sched_getaffinity(0)), "CPU affinity")]
    else:
        limits = [(os.cpu_count() or 1, "CPU count")]
    quota = cgroup_cpu_quota(cgroup_root)
    if quota is not None:
        limits.append((max(1, int(math.floor(quota))), "cgroup CPU quota"))
    slurm = environ.get("SLURM_CPUS_PER_TASK", "").strip()
    if slurm.isdigit() and int(slurm) > 0:
        limits.append((int(slurm), "SLURM_CPUS_PER_TASK"))
    return min(limits, key=lambda limit: limit[0])


def choose_num_threads(requested, parameter, environ=None, cgroup_root=CGROUP_ROOT):
    """(threads, why) for a `num_threads` setting: a positive integer is used as is; None ('auto') takes
    $OMP_NUM_THREADS when set, else `available_cpus`. `parameter` names the setting in errors."""
    environ = os.environ if environ is None else environ
    if requested is not None and requested != "auto":
        return validation.check_int(parameter, requested, minimum=1), parameter
    omp = environ.get("OMP_NUM_THREADS", "").strip()
    if omp:
        if not omp.isdigit() or int(omp) < 1:
            raise ConfigError("environment variable OMP_NUM_THREADS is {!r}; set it to a positive number of "
                              "threads or unset it".format(omp))
        return int(omp), "OMP_NUM_THREADS"
    count, limit = available_cpus(environ, cgroup_root)
    return count, "{} allows {}".format(limit, count)


def use_threads(num_threads):
    """Makes torch (intra-op) and the BLAS libraries of numpy and scikit-learn use `num_threads` threads."""
    import torch
    torch.set_num_threads(num_threads)
    try:
        import threadpoolctl
    except ImportError:
        return
    threadpoolctl.threadpool_limits(limits=num_threads)


def _load_average():
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def configure(requested, parameter, log):
    """Chooses and applies the thread count; `log(message)` gets the one line saying the choice. Returns (the
    count, whether the user chose it: `parameter` or $OMP_NUM_THREADS, not the CPUs available)."""
    num_threads, why = choose_num_threads(requested, parameter)
    explicit = why in (parameter, "OMP_NUM_THREADS")
    use_threads(num_threads)
    if why == parameter:
        why = "{} = {}".format(parameter, num_threads)
    elif why == "OMP_NUM_THREADS":
        why = "OMP_NUM_THREADS={}".format(num_threads)
    if not why.startswith(parameter):
        why += "; set {} to change".format(parameter)
    busy = _load_average()
    if num_threads > 1 and busy is not None and busy > available_cpus()[0]:
        why += "; the load average, {:.1f}, exceeds the CPUs this process may use: if other jobs share them, " \
               "1 thread is often several times faster".format(busy)
    log("using {} CPU thread{} ({})".format(num_threads, "" if num_threads == 1 else "s", why))
    return num_threads, explicit
