"""Helpers of the reliability tests: the installed commands run as real processes, one-line errors, and
byte-level snapshots of directories (pre-existing files must stay byte-for-byte intact)."""
import hashlib
import os
import subprocess
import sys

BIN = os.path.dirname(sys.executable)
TESTS = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
REPO = os.path.dirname(TESTS)
STUDY = os.path.join(REPO, "configs", "studies", "test")
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


def flip_byte(path, offset=None):
    """Flips the bits of one byte of a file (the middle one, or `offset`, negative from the end): damage that
    leaves the file's size and often its format intact."""
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        position = size // 2 if offset is None else (offset % size)
        f.seek(position)
        byte = f.read(1)
        f.seek(position)
        f.write(bytes([byte[0] ^ 0xFF]))


def manifest_entries(directory):
    """{relative path: last event} of a directory's .dtl_manifest.jsonl (as utils/manifest.py replays it)."""
    import json
    entries = {}
    with open(os.path.join(directory, ".dtl_manifest.jsonl"), encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            event = json.loads(line)
            path = next((event[k] for k in ("dir", "file", "writing", "log", "removed") if k in event), None)
            if path is None:
                continue
            if "removed" in event:
                entries.pop(path, None)
            else:
                entries[path] = event
    return entries


def assert_manifest_lists_everything(directory, user_files=()):
    """Every file under `directory` other than the user's and the tool's bookkeeping (`.dtl_*`) is listed in its
    manifest with the size and SHA-256 it has: the command knows everything it wrote."""
    entries = manifest_entries(directory)
    for root, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, directory).replace(os.sep, "/")
            if relative in user_files or name.startswith(".dtl_"):
                continue
            assert relative in entries, "{} is not in the manifest of {}".format(relative, directory)
            event = entries[relative]
            assert "file" in event, (relative, event)
            with open(path, "rb") as f:
                assert hashlib.sha256(f.read()).hexdigest() == event["sha256"], relative


def published_model_files(model_num=0):
    """{path: bytes} of a model as disentanglement_lib published it (tests/importer/conftest.py's fixture)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("importer_fixtures", os.path.join(TESTS, "importer", "conftest.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.published_files(model_num)
