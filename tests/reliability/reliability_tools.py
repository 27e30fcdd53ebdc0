"""Helpers of the reliability tests: the installed commands run as real processes, one-line errors, and
byte-level snapshots of directories (pre-existing files must stay byte-for-byte intact)."""
import hashlib
import os
import subprocess
import sys

BIN = os.path.dirname(sys.executable)
STUDY = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "studies", "test")
TRAIN_GIN = os.path.join(STUDY, "model_configs", "train_test.gin")
MEAN_GIN = os.path.join(STUDY, "postprocess_configs", "mean.gin")
MIG_GIN = os.path.join(STUDY, "metric_configs", "mig.gin")
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def command(name, *args):
    return [os.path.join(BIN, name)] + [str(a) for a in args]


def run(name, *args, timeout=300, env=None):
    """Runs an installed dtl_* command to completion; returns the CompletedProcess (text output)."""
    return subprocess.run(command(name, *args), capture_output=True, text=True, timeout=timeout,
                          env=env or ENV)


def one_line_error(completed, name):
    """The single `name: ...` line of a refused command (log lines of the work before it may precede it)."""
    assert "Traceback" not in completed.stderr, completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.startswith(name + ": ")]
    assert len(lines) == 1, completed.stderr
    return lines[0]


def snapshot(directory):
    """{relative path: SHA-256} of every file under `directory`."""
    result = {}
    for root, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                result[os.path.relpath(path, directory)] = hashlib.sha256(f.read()).hexdigest()
    return result
