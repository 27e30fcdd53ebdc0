"""dtl_submit on a real single-node SLURM cluster (tests/slurm/local_cluster.sh starts it; as root it installs
SLURM with apt-get first). Skipped only where SLURM cannot run at all.

The first tests drive the job scripts with a stand-in for dtl_reproduce (a program that counts steps,
checkpoints its count and exits 75 on SIGTERM/SIGUSR1); the last ones run the real pipeline.
"""
import contextlib
import fcntl
import glob
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from dlib_torch.config import reproduce as studies

CLUSTER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "slurm", "local_cluster.sh")
USERS = "/tmp/dlib_torch-slurm-users"  # one file per test process using the cluster (pytest-xdist workers)
BIN = os.path.dirname(sys.executable)
VOLATILE = ("elapsed_time", "uuid")


def cannot_run_slurm():
    """Why SLURM cannot run on this machine, or None."""
    if not sys.platform.startswith("linux"):
        return "the SLURM tests need Linux"
    installed = all(shutil.which(p, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
                    for p in ["slurmctld", "slurmd", "sbatch"])
    if not installed and os.geteuid() != 0:
        return "SLURM is not installed and installing it needs root (apt-get install slurmctld slurmd slurm-client)"
    if not installed and shutil.which("apt-get") is None:
        return "SLURM is not installed and this machine has no apt-get to install it"
    return None


@contextlib.contextmanager
def cluster_lock():
    os.makedirs(USERS, exist_ok=True)
    with open(os.path.join(USERS, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def live_users():
    return [name for name in os.listdir(USERS) if name.isdigit() and os.path.exists("/proc/" + name)]


@pytest.fixture(scope="session")
def slurm_env():
    """The environment of a running local cluster, shared by the test processes; the last one stops it."""
    reason = cannot_run_slurm()
    if reason:
        pytest.skip(reason)
    with cluster_lock():
        start = subprocess.run([CLUSTER, "start"], capture_output=True, text=True, timeout=600)
        assert start.returncode == 0, "local_cluster.sh start failed:\n" + start.stderr
        open(os.path.join(USERS, str(os.getpid())), "w").close()
    exports = dict(line.replace("export ", "", 1).split("=", 1) for line in start.stdout.splitlines())
    yield dict(os.environ, **exports)
    with cluster_lock():
        os.remove(os.path.join(USERS, str(os.getpid())))
        if not live_users():
            subprocess.run([CLUSTER, "stop"], check=True, timeout=300)


def submit(env, cwd, *args):
    """Runs dtl_submit; returns the job ids it printed."""
    run = subprocess.run([os.path.join(BIN, "dtl_submit")] + list(args), capture_output=True, text=True,
                         timeout=120, env=env, cwd=cwd)
    assert run.returncode == 0, run.stderr
    return [line.split("submitted job ")[1].split()[0] for line in run.stdout.splitlines() if "submitted job" in line]


def task_states(env, job_id):
    """{array index: state} of a job array's tasks."""
    out = subprocess.run(["squeue", "-h", "-r", "-t", "all", "-j", job_id, "-o", "%K %T"], capture_output=True,
                         text=True, timeout=60, env=env).stdout
    return {int(index): state for index, state in (line.split() for line in out.splitlines() if line.strip())}


def wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError("timed out after {} s waiting for {}".format(timeout, what))


def wait_until_done(env, job_id, num_tasks, timeout=600):
    def done():
        states = task_states(env, job_id)
        finished = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"}
        return states if len(states) == num_tasks and set(states.values()) <= finished else None
    return wait_for(done, timeout, "job {} to finish".format(job_id))


def scontrol(env, *args):
    subprocess.run(["scontrol"] + list(args), check=True, capture_output=True, timeout=60, env=env)


def requeue_and_release(env, task):
    """Requeues a task and lifts SLURM's 120 s hold on requeued tasks (now+2: see shared/slurm/README.md)."""
    scontrol(env, "requeue", task)
    scontrol(env, "update", "JobId=" + task, "StartTime=now+2")


def read(path):
    with open(path) as f:
        return f.read()


STAND_IN = """
    import argparse, json, os, signal, sys, time
    parser = argparse.ArgumentParser()
    for flag in ["--study", "--output_directory", "--model_num"]:
        parser.add_argument(flag)
    args = parser.parse_args()
    out = args.output_directory.format(study=os.path.basename(args.study), model_num=args.model_num)
    os.makedirs(out, exist_ok=True)
    checkpoint = os.path.join(out, "checkpoint")
    step = int(open(checkpoint).read()) if os.path.exists(checkpoint) else 0
    stop = []
    for signum in (signal.SIGTERM, signal.SIGUSR1):
        signal.signal(signum, lambda s, f: stop.append(signal.Signals(s).name))
    print("stand-in: model", args.model_num, "starts at step", step, flush=True)
    while step < {steps}:
        if stop:
            print("stand-in: got", stop[0], "at step", step, flush=True)
            sys.exit(75)
        time.sleep({seconds_per_step})
        step += 1
        with open(checkpoint + ".tmp", "w") as f:
            f.write(str(step))
        os.replace(checkpoint + ".tmp", checkpoint)
    with open(os.path.join(out, "done.json"), "w") as f:
        json.dump({{"model_num": int(args.model_num), "task": int(os.environ["SLURM_ARRAY_TASK_ID"]),
                   "restarts": int(os.environ.get("SLURM_RESTART_COUNT", "0"))}}, f)
"""


def stand_in(tmp_path, steps, seconds_per_step):
    path = tmp_path / "stand_in.py"
    path.write_text(textwrap.dedent(STAND_IN.format(steps=steps, seconds_per_step=seconds_per_step)))
    return "{} {}".format(sys.executable, path)


def test_arrays_map_tasks_to_model_numbers(slurm_env, tmp_path):
    job_ids = submit(slurm_env, tmp_path, "--study=unsupervised_study_v1", "--model_nums=1001-1002,1005",
                     "--max_array_size=3", "--max_parallel=1", "--output_directory=out/{study}/{model_num}",
                     "--reproduce_command=" + stand_in(tmp_path, steps=2, seconds_per_step=0.01))
    assert len(job_ids) == 2  # 1001-1002 (indices 0-1) and 1005 (index 0): indices stay below 3
    assert wait_until_done(slurm_env, job_ids[0], 2) == {0: "COMPLETED", 1: "COMPLETED"}
    assert wait_until_done(slurm_env, job_ids[1], 1) == {0: "COMPLETED"}
    for model_num, task in [(1001, 0), (1002, 1), (1005, 0)]:
        done = json.loads(read(tmp_path / "out" / "unsupervised_study_v1" / str(model_num) / "done.json"))
        assert done == {"model_num": model_num, "task": task, "restarts": 0}
    log = read(tmp_path / "slurm" / "unsupervised_study_v1" / "logs" / "dtl_unsupervised_study_v1_1001-1002_1.out")
    assert "runs model 1002 of unsupervised_study_v1" in log and "stand-in: model 1002 starts at step 0" in log


def test_pre_timeout_signal_reaches_the_program_which_requeues_and_resumes(slurm_env, tmp_path):
    job_id, = submit(slurm_env, tmp_path, "--study=test", "--model_nums=1", "--output_directory=out/{model_num}",
                     "--reproduce_command=" + stand_in(tmp_path, steps=200, seconds_per_step=0.05))
    task = job_id + "_0"
    checkpoint = tmp_path / "out" / "1" / "checkpoint"
    wait_for(lambda: checkpoint.exists() and int(read(checkpoint) or 0) >= 10, 120, "the task to make progress")
    # What --signal=USR1@N does before the time limit: signal the job step (dtl_reproduce), not the shell.
    subprocess.run(["scancel", "--signal=USR1", task], check=True, env=slurm_env, timeout=60)
    wait_for(lambda: task_states(slurm_env, job_id).get(0) == "PENDING", 120, "the task to requeue itself")
    scontrol(slurm_env, "update", "JobId=" + task, "StartTime=now+2")
    assert wait_until_done(slurm_env, job_id, 1) == {0: "COMPLETED"}
    log = read(tmp_path / "slurm" / "test" / "logs" / "dtl_test_1-1_0.out")
    assert "stand-in: got SIGUSR1 at step" in log
    assert "dtl_submit: model 1 stopped early (exit 75); requeueing task " + task in log
    assert log.count("dtl_submit: task {} runs model 1".format(task)) == 2  # one log, appended
    resumed_at = int(log.split("stand-in: model 1 starts at step ")[2].split()[0])
    assert resumed_at >= 10
    assert json.loads(read(tmp_path / "out" / "1" / "done.json"))["restarts"] == 1


def metric_records(output_directory):
    return sorted(glob.glob(os.path.join(output_directory, "metrics", "*", "*", "results", "aggregate",
                                         "evaluation.json")))


def stable(path, prefixes=("train_results.", "evaluation_results.")):
    record = json.loads(read(path))
    return {k: v for k, v in record.items() if k.startswith(prefixes) and not k.endswith(VOLATILE)}


def test_test_study_array(slurm_env, tmp_path):
    job_id, = submit(slurm_env, tmp_path, "--study=test", "--output_directory=out/{study}/{model_num}")
    states = wait_until_done(slurm_env, job_id, 3)
    logs = tmp_path / "slurm" / "test" / "logs"
    assert states == {0: "COMPLETED", 1: "COMPLETED", 2: "COMPLETED"}, read(logs / "dtl_test_0-2_0.out")
    for model_num in range(3):
        output_directory = str(tmp_path / "out" / "test" / str(model_num))
        assert os.path.exists(os.path.join(output_directory, "model", "results", "aggregate", "train.json"))
        records = metric_records(output_directory)
        assert [os.path.relpath(p, output_directory).split(os.sep)[1:3] for p in records] == [
            ["mean", "mig"], ["mean", "sap_score"], ["sampled", "mig"], ["sampled", "sap_score"]]
        for path in records:
            assert json.loads(read(path))["train_config.model.model_num"] == str(model_num)
        assert "model {} of study test is complete".format(model_num) in read(
            logs / "dtl_test_0-2_{}.out".format(model_num))


def test_cancelled_task_resumes_from_its_checkpoint_after_requeue(slurm_env, tmp_path):
    study = tmp_path / "long_study"
    shutil.copytree(os.path.join(studies.studies_root(), "test"), study, ignore=shutil.ignore_patterns("__pycache__"))
    config = study / "model_configs" / "train_test.gin"
    # Conv networks and 800 steps: several seconds of training, so the cancel always lands mid-training.
    text = read(config).replace("model.training_steps = 20\n", "model.training_steps = 800\n")
    text = text.replace("@test_encoder", "@conv_encoder").replace("@test_decoder", "@deconv_decoder")
    config.write_text(text + "training_runtime.log_every_steps = 10\n")
    job_id, = submit(slurm_env, tmp_path, "--study=" + str(study), "--model_nums=0",
                     "--output_directory=out/{model_num}")
    task = job_id + "_0"
    # The same model without interruption, for comparison, while the array task runs.
    with open(tmp_path / "uninterrupted.log", "w") as log:
        uninterrupted = subprocess.Popen([os.path.join(BIN, "dtl_reproduce"), "--study=" + str(study),
                                          "--model_num=0", "--output_directory=" + str(tmp_path / "uninterrupted")],
                                         stdout=log, stderr=subprocess.STDOUT)
    try:
        check_resumed_run(slurm_env, tmp_path, job_id, task, uninterrupted)
    finally:
        if uninterrupted.poll() is None:
            uninterrupted.kill()
            uninterrupted.wait()


def check_resumed_run(slurm_env, tmp_path, job_id, task, uninterrupted):
    """Cancels the task mid-training, requeues it, and compares its records with the uninterrupted run's."""
    model_dir = tmp_path / "out" / "0" / "model"
    log_path = tmp_path / "slurm" / "long_study" / "logs" / "dtl_long_study_0-0_0.out"

    scalars = model_dir / "scalars.jsonl"  # training's first report: 10 steps done

    def training_started_or_task_ended():
        if scalars.exists() and scalars.stat().st_size:
            return "started"
        return task_states(slurm_env, job_id).get(0) not in ("PENDING", "RUNNING", None) and "ended"
    started = wait_for(training_started_or_task_ended, 300, "training to start")
    assert started == "started", read(log_path)
    subprocess.run(["scancel", task], check=True, env=slurm_env, timeout=60)
    assert wait_until_done(slurm_env, job_id, 1) == {0: "CANCELLED"}
    wait_for(lambda: "dtl_reproduce: preempted:" in read(log_path), 60, "dtl_reproduce to stop (exit 75)")
    assert not (model_dir / "results" / "aggregate" / "train.json").exists(), "training finished before the cancel"
    assert (model_dir / "checkpoints" / "latest.pt").exists()

    requeue_and_release(slurm_env, task)
    assert wait_until_done(slurm_env, job_id, 1) == {0: "COMPLETED"}, read(log_path)
    assert "dtl_reproduce: resuming unfinished training in " in read(log_path)
    assert uninterrupted.wait(timeout=900) == 0, read(tmp_path / "uninterrupted.log")
    resumed, whole = metric_records(str(tmp_path / "out" / "0")), metric_records(str(tmp_path / "uninterrupted"))
    assert len(resumed) == len(whole) == 4
    for a, b in zip(resumed, whole):
        assert stable(a) == stable(b)
