"""Serial vs parallel per-factor fits of the GBT-based metrics, on dSprites-shaped synthetic codes.

    python benchmarks/bench_metric_fits.py [--num_train 2000] [--num_test 1000] [--jobs N] [--fast]

DCI's importances and the boosted-trees downstream task fit one classifier per factor (and per train size);
they dominate a study's evaluation time (about 400 s for DCI alone at the study's 10,000 points). This prints
the time of each with one process and with `--jobs` processes, their ratio, and whether the scores are
identical (they must be). With --fast it instead times parity mode against the fast evaluation mode
(`evaluation_runtime.mode = 'fast'`), both with --jobs processes, and prints the largest score difference.
"""
import argparse
import os
import time

import joblib
import numpy as np

from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import downstream_task
from dlib_torch.evaluation.metrics import utils

DSPRITES_FACTOR_SIZES = [3, 6, 40, 32, 32]


def synthetic_codes(num_points, random_state):
    """Factors of dSprites' sizes and 10-dimensional codes: 5 noisy factor codes, 5 noise dimensions."""
    factors = np.stack([random_state.randint(size, size=num_points) for size in DSPRITES_FACTOR_SIZES], axis=1)
    scaled = factors / np.array(DSPRITES_FACTOR_SIZES, dtype=np.float64)
    codes = np.hstack([scaled + random_state.normal(scale=0.05, size=scaled.shape),
                       random_state.normal(size=(num_points, 5))])
    return codes, factors


def timed(function, jobs):
    os.environ["DTL_NUM_JOBS"] = str(jobs)
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num_train", type=int, default=2000)
    parser.add_argument("--num_test", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=joblib.cpu_count())
    parser.add_argument("--fast", action="store_true", help="parity vs fast evaluation mode instead")
    args = parser.parse_args()
    random_state = np.random.RandomState(0)
    codes_train, factors_train = synthetic_codes(args.num_train, random_state)
    codes_test, factors_test = synthetic_codes(args.num_test, random_state)
    sizes = [size for size in (10, 100, 1000, 10000) if size <= args.num_train]
    benchmarks = {
        "dci": lambda: dci.dci_from_codes(codes_train, factors_train, codes_test, factors_test),
        "downstream_task (boosted trees, train sizes {})".format(sizes): lambda: [
            downstream_task.downstream_task_from_codes(codes_train[:size], factors_train[:size], codes_test,
                                                       factors_test, utils.gradient_boosting_classifier)
            for size in sizes],
    }
    print("{} train / {} test points, factor sizes {}, {} jobs".format(args.num_train, args.num_test,
                                                                        DSPRITES_FACTOR_SIZES, args.jobs))
    if args.fast:
        for name, function in benchmarks.items():
            with utils.evaluation_mode("parity"):
                parity_time, parity_scores = timed(function, args.jobs)
            with utils.evaluation_mode("fast"):
                fast_time, fast_scores = timed(function, args.jobs)
            parity_scores = parity_scores if isinstance(parity_scores, list) else [parity_scores]
            fast_scores = fast_scores if isinstance(fast_scores, list) else [fast_scores]
            difference = max(abs(fast[key] - parity[key]) for fast, parity in zip(fast_scores, parity_scores)
                             for key in parity)
            print("{}: parity {:.1f} s, fast {:.1f} s, speed-up {:.2f}x, largest |fast - parity| {:.3f}".format(
                name, parity_time, fast_time, parity_time / fast_time, difference))
        return
    for name, function in benchmarks.items():
        serial_time, serial_scores = timed(function, 1)
        parallel_time, parallel_scores = timed(function, args.jobs)
        print("{}: serial {:.1f} s, {} jobs {:.1f} s, speed-up {:.2f}x, identical scores: {}".format(
            name, serial_time, args.jobs, parallel_time, serial_time / parallel_time,
            serial_scores == parallel_scores))


if __name__ == "__main__":
    main()
