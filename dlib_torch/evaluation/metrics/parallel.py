"""Independent model fits (one per factor, per training size, ...) run in parallel across processes.

Each task gets everything it depends on (data, estimator, seed) before it starts, so the results are
identical to a serial run whatever the number of jobs. Fits use one BLAS thread each: their matrices are small,
and multi-threaded BLAS on small problems (L-BFGS steps) is many times slower on a busy machine.
Workers do not outlive the run: each watches its parent and exits as soon as the parent is gone (killed,
preempted), instead of finishing fits nobody will read.
"""
import concurrent.futures
import os
import threading
import time

import gin
import joblib
from joblib.externals import loky
import threadpoolctl

from dlib_torch.utils import progress
from dlib_torch.utils import sklearn_warnings
from dlib_torch.utils.errors import ConfigError

NUM_JOBS_ENV = "DTL_NUM_JOBS"


@gin.configurable("parallel_fits")
def num_jobs(num_jobs=None):
    """Processes for the fits: gin `parallel_fits.num_jobs`, else $DTL_NUM_JOBS, else every usable core."""
    if num_jobs is not None:
        value, source = num_jobs, "gin parameter parallel_fits.num_jobs"
    elif os.environ.get(NUM_JOBS_ENV):
        value, source = os.environ[NUM_JOBS_ENV], "environment variable " + NUM_JOBS_ENV
    else:
        return joblib.cpu_count()
    if not str(value).strip().isdigit() or int(value) < 1:
        raise ConfigError("{} is {!r}; set it to a positive number of processes".format(source, value))
    return int(value)


def map_in_parallel(function, argument_tuples, costs=None, jobs=None):
    """Returns `[function(*arguments) for arguments in argument_tuples]`, computed in parallel.

    `function` must be a module-level function (it runs in worker processes, where gin is not configured).
    Tasks start in decreasing order of `costs`, so that a long fit does not start last.
    """
    argument_tuples = list(argument_tuples)
    jobs = min(jobs or num_jobs(), len(argument_tuples))
    with progress.Progress("fitting {} models".format(len(argument_tuples)), total=len(argument_tuples),
                           unit="fits") as bar:
        if jobs <= 1:
            outputs = []
            with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
                for arguments in argument_tuples:
                    outputs.append(sklearn_warnings.call_counting(function, arguments))
                    bar.update(1)
            return sklearn_warnings.unpack(outputs)
        order = list(range(len(argument_tuples)))
        if costs is not None:
            order.sort(key=lambda task: -costs[task])
        # Warnings raised in a worker are counted there and reported here (sklearn_warnings), since they would not
        # reach this process.
        executor = loky.get_reusable_executor(max_workers=jobs, timeout=IDLE_WORKER_SECONDS,
                                              initializer=_start_worker,
                                              initargs=(os.getpid(), max(1, joblib.cpu_count() // jobs)))
        futures = {executor.submit(sklearn_warnings.call_counting, function, argument_tuples[task]): task
                   for task in order}
        outputs = [None] * len(order)
        for future in concurrent.futures.as_completed(futures):
            outputs[futures[future]] = future.result()
            bar.update(1)
        return sklearn_warnings.unpack(outputs)


IDLE_WORKER_SECONDS = 60
PARENT_POLL_SECONDS = 0.5


def _start_worker(parent_pid, blas_threads):
    """Runs once in each worker process: BLAS threads for its share of the cores, and a watchdog that exits
    the worker as soon as `parent_pid` is gone."""
    threadpoolctl.threadpool_limits(limits=blas_threads)
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()


def _exit_when_orphaned(parent_pid):
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)  # the run that wanted these fits is gone
        time.sleep(PARENT_POLL_SECONDS)
