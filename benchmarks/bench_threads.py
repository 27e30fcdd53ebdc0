"""Training speed with the automatic thread count against one thread, on a quiet and on a shared machine.

    python benchmarks/bench_threads.py [--steps=300] [--competitors=1]

Runs the installed `dtl_train` on quickstart model 0's configuration (β-VAE, conv architecture, procedural
dSprites, blank_side split) for `--steps` steps, four times: {automatic threads, training_runtime.num_threads
= 1} x {alone, beside `--competitors` busy processes (one core each, started here)}. Prints the thread count
each run chose (its first log line), its steps/s after the first report (scalars.jsonl) and its wall time, and
the ratios measured in this run. The machine's other load is not controlled: read the ratios, and rerun.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

BIN = os.path.dirname(sys.executable)


def quickstart_model_0():
    """The training gin file and bindings of quickstart model 0, as dtl_reproduce runs it."""
    from dlib_torch.config import reproduce
    study = reproduce.get_study("quickstart")
    bindings, config_file = study.get_model_config(0)
    return config_file, bindings


def train(directory, config_file, bindings, steps, num_threads):
    extra = ["model.training_steps = {}".format(steps),
             "training_runtime.log_every_steps = {}".format(max(steps // 5, 1))]
    if num_threads is not None:
        extra.append("training_runtime.num_threads = {}".format(num_threads))
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["DTL_PROGRESS"] = "lines"
    command = [os.path.join(BIN, "dtl_train"), "--model_dir={}".format(directory), "--gin_config={}".format(
        config_file)] + ["--gin_bindings={}".format(b) for b in list(bindings) + extra]
    start = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.monotonic() - start
    if run.returncode != 0:
        raise SystemExit(run.stderr[-3000:])
    chosen = re.search(r"using (\d+) CPU threads? \(([^)]*)\)", run.stderr)
    with open(os.path.join(directory, "scalars.jsonl")) as f:
        records = [json.loads(line) for line in f]
    later = records[1:] or records  # the first report includes start-up
    rate = sum(r["steps_per_second"] for r in later) / len(later)
    return {"threads": int(chosen.group(1)), "why": chosen.group(2), "steps_per_second": rate, "wall_s": wall}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--competitors", type=int, default=1)
    args = parser.parse_args()
    config_file, bindings = quickstart_model_0()
    print("CPUs this process may use: {}; load average before: {}".format(
        len(os.sched_getaffinity(0)), os.getloadavg()))
    results = {}
    with tempfile.TemporaryDirectory() as root:
        for shared in (False, True):
            competitors = []
            if shared:
                competitors = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                               for _ in range(args.competitors)]
            try:
                for threads in (None, 1):
                    name = "{}, {}".format("shared" if shared else "alone", "auto" if threads is None else "1 thread")
                    directory = os.path.join(root, name.replace(", ", "_").replace(" ", "_"))
                    results[name] = train(directory, config_file, bindings, args.steps, threads)
                    r = results[name]
                    print("{:22} {} thread{} ({}): {:.2f} steps/s, {:.1f} s wall".format(
                        name, r["threads"], "" if r["threads"] == 1 else "s", r["why"], r["steps_per_second"],
                        r["wall_s"]), flush=True)
            finally:
                for process in competitors:
                    process.kill()
                    process.wait()
    for where in ("alone", "shared"):
        auto, one = results[where + ", auto"], results[where + ", 1 thread"]
        print("{}: auto / 1 thread = {:.2f} (steps/s ratio)".format(where, auto["steps_per_second"]
                                                                   / one["steps_per_second"]))
    print("load average after: {}".format(os.getloadavg()))


if __name__ == "__main__":
    main()
