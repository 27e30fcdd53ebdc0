"""Time `dtl_report` on 100,000-record aggregates (target < 60 s on 2 cores).

Two aggregates, written in a temporary folder as dtl_aggregate writes them:
  bench_aggregate   the records of benchmarks/bench_aggregate.py (the reference's keys, but invented score
                    names such as `mig_3`, so the report plots its fallback score of every metric)
  study_shaped      records of unsupervised_study_v1 models, spread over its 7 data sets and 6 methods, with
                    both representations and the study's 9 metrics under their real result keys
                    (dlib_torch/visualize/report/synthetic_records.py), so that every Locatello et al. figure
                    is drawn from 100,000 records
and runs the installed `dtl_report` command on each, timing the whole command (loading included).

    python benchmarks/bench_report.py [--num_records=100000] [--which=both|bench_aggregate|study_shaped] [--keep]
"""
import argparse
import importlib.util
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from dlib_torch.visualize.report import synthetic_records

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDS_PER_MODEL = 18  # 2 representations x 9 metrics


def bench_aggregate_records(num_records):
    """bench_aggregate.py's records (same generator, same order), with the `path` dtl_aggregate adds."""
    spec = importlib.util.spec_from_file_location("bench_aggregate", os.path.join(HERE, "bench_aggregate.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.RandomState(0)
    per_model = len(module.POSTPROCESS) * len(module.METRICS)
    records = []
    for i in range(num_records):
        model_num, rest = divmod(i, per_model)
        post, metric = module.POSTPROCESS[rest // len(module.METRICS)], module.METRICS[rest % len(module.METRICS)]
        record = module.record(model_num, post, metric, rng)
        record["path"] = os.path.join("output", "unsupervised_study_v1", str(model_num), "metrics", post, metric,
                                      "results", "aggregate", "evaluation.json")
        records.append(record)
    return records


def study_shaped_records(num_records):
    num_models = -(-num_records // RECORDS_PER_MODEL)
    model_nums = np.unique(np.linspace(0, 12599, num_models).astype(int))
    return synthetic_records.study_records("unsupervised_study_v1", model_nums)[:num_records]


def time_report(name, make_records, num_records, root):
    path = os.path.join(root, name + ".json")
    start = time.time()
    records = make_records(num_records)
    synthetic_records.write_aggregate(records, path)
    print("{}: wrote {} records ({:.0f} MB) in {:.1f} s".format(name, len(records), os.path.getsize(path) / 1e6,
                                                                time.time() - start))
    del records  # free the parent's copy before the command loads its own
    command = [os.path.join(os.path.dirname(sys.executable), "dtl_report"), "--input=" + path,
               "--output_dir=" + os.path.join(root, name + "_report"), "--study=unsupervised_study_v1"]
    start, before = time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    run = subprocess.run(command, capture_output=True, text=True)
    seconds = time.time() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if run.returncode != 0:
        raise SystemExit("{} failed: {}".format(" ".join(command), run.stderr[-2000:]))
    report_dir = os.path.join(root, name + "_report")
    files = [f for _, _, fs in os.walk(report_dir) for f in fs]
    # On a shared machine the wall time depends on the load; the CPU time is the command's own.
    print("{}: dtl_report took {:.1f} s wall, {:.1f} s CPU (target < 60 s on 2 cores); {} files, {} figures; "
          "load average {:.1f}".format(name, seconds, cpu_seconds, len(files), sum(f.endswith(".png") for f in files),
                                       os.getloadavg()[0]))
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num_records", type=int, default=100000)
    parser.add_argument("--which", choices=["both", "bench_aggregate", "study_shaped"], default="both")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="bench_report_")
    try:
        if args.which in ("both", "bench_aggregate"):
            time_report("bench_aggregate", bench_aggregate_records, args.num_records, root)
        if args.which in ("both", "study_shaped"):
            time_report("study_shaped", study_shaped_records, args.num_records, root)
        print("peak RSS of the children: {:.0f} MB".format(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))
    finally:
        if args.keep:
            print("kept", root)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
