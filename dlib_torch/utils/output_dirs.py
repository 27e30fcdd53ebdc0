"""The one policy every stage follows for its output directory (DESIGN §2 and §8).

A stage owns only what it wrote. `claim` takes the directory's exclusive lock for the duration of the step,
refuses a directory that is or contains one of the stage's inputs, or that holds anything the stage cannot
prove it wrote, and marks the directory as unfinished work (`.dtl_unfinished`, naming the step) until the
records are written. A rerun then redoes (or, for training, resumes) a directory that carries its own marker;
`--overwrite` replaces only a finished step of the same kind. Temporary files of an interrupted atomic write
are removed. Nothing here imports torch, so the command-line stages can refuse bad output paths cheaply.

Locks: `<dir>/.dtl_lock`, held with `fcntl.flock` by an open file, so a crashed holder leaves no stale lock
(its file stays, harmless; a normal release removes it).
A second run on a locked directory exits at once with status 75 naming the holder's host and pid, or waits
for it with `--wait_for_lock` (`set_wait_for_lock`).
"""
import contextlib
import errno
import json
import os
import shutil
import socket
import time

try:
    import fcntl
except ImportError:  # not POSIX: no locking
    fcntl = None

from dlib_torch.utils.errors import UserError

UNFINISHED_MARKER = ".dtl_unfinished"
LOCK_FILE = ".dtl_lock"
_OWN_FILES = (UNFINISHED_MARKER, LOCK_FILE)

_settings = {"wait_for_lock": False}
_held_locks = {}  # realpath -> [fd, depth]: a process may re-enter its own lock (dtl_reproduce's steps)


class OutputDirectoryLocked(Exception):
    """Another process holds the output directory's lock; the command exits with `EXIT_CODE` (75)."""

    EXIT_CODE = 75


def set_wait_for_lock(wait):
    """With `wait`, a run waits for a locked output directory instead of exiting with status 75."""
    _settings["wait_for_lock"] = bool(wait)


def require_finished(directory, step_name, command_hint):
    """Raises a one-line error unless `directory` holds the finished records of `step_name`."""
    if not os.path.isdir(directory):
        raise UserError("input directory {} does not exist; {}".format(directory, command_hint))
    if not _step_finished(directory, step_name):
        raise UserError("{} has no finished '{}' step (results/aggregate/{}.json is missing); {}".format(
            directory, step_name, step_name, command_hint))
    from dlib_torch.utils import results  # a damaged record is named before any work, not after it
    for sub in ("json", "aggregate"):
        records = os.path.join(directory, "results", sub)
        for name in sorted(os.listdir(records)) if os.path.isdir(records) else []:
            if name.endswith(".json") and not name.startswith("."):
                results.load_record(os.path.join(records, name))


def check_output_directory(output_directory, step_name, overwrite=False, inputs=(), finished_ok=False,
                           keep_unfinished=False):
    """Checks, without changing anything, that a stage may write `output_directory`; raises a one-line
    UserError otherwise. Returns the directory's state: 'new', 'unfinished', 'finished' or 'finished_ok'
    (finished, nothing to do).

    Args:
      output_directory: the stage's output directory.
      step_name: the stage's records step (train, postprocess, evaluation, visualize, ...).
      overwrite: a finished step of the same kind may be replaced.
      inputs: directories the stage reads; the output may be neither one of them nor contain one.
      finished_ok: a finished directory (without `overwrite`) is 'finished_ok' instead of an error.
      keep_unfinished: the step resumes unfinished work (training); its legacy layout counts as its own.
    """
    _refuse_inputs(output_directory, inputs)
    if os.path.exists(output_directory) and not os.path.isdir(output_directory):
        raise UserError("output directory {} is a file; choose another path".format(output_directory))
    if not os.path.isdir(output_directory):
        return "new"
    marker_step = _marker_step(output_directory)
    if marker_step is not None:  # unfinished work (its records may include those it carried forward)
        if marker_step == step_name:
            return "unfinished"
        raise UserError("{} holds unfinished work of step '{}', not '{}'; choose another output directory".format(
            output_directory, marker_step, step_name))
    own_step = finished_step(output_directory)
    if own_step is not None and own_step != step_name:
        raise UserError("output directory {} already holds finished '{}' results; nothing there is deleted: "
                        "choose a new or empty directory".format(output_directory, own_step))
    finished = own_step == step_name
    if finished and not overwrite:
        if finished_ok:
            return "finished_ok"
        raise UserError("{} already holds finished '{}' results; pass --overwrite to replace them".format(
            output_directory, step_name))
    if finished:
        return "finished"
    foreign = _foreign_entries(output_directory)
    if not foreign:
        return "new"
    if keep_unfinished and _legacy_own(output_directory):
        return "unfinished"
    raise UserError("output directory {} already holds files this stage did not write (e.g. {}); nothing there "
                    "is deleted: choose a new or empty directory".format(output_directory, foreign[0]))


@contextlib.contextmanager
def claim(output_directory, step_name, overwrite=False, inputs=(), keep_unfinished=False, finished_ok=False):
    """Locks and prepares `output_directory` for `step_name`; yields a Claim whose `skip` is True when the
    step is already finished and `finished_ok` (nothing to do).

    A new directory is created and marked unfinished; an unfinished one of this step is cleared (or kept,
    with `keep_unfinished`, for training to resume); a finished one is replaced only with `overwrite`. On a
    normal exit of the block the marker is removed (the step's records must have been written inside it);
    on an exception it stays, so a rerun knows the work is its own. The lock is released either way.
    """
    _refuse_inputs(output_directory, inputs)
    if os.path.exists(output_directory) and not os.path.isdir(output_directory):
        raise UserError("output directory {} is a file; choose another path".format(output_directory))
    existed = os.path.isdir(output_directory)
    _make_directory(output_directory)
    try:
        with locked(output_directory):
            state = check_output_directory(output_directory, step_name, overwrite, inputs, finished_ok,
                                           keep_unfinished)
            if state == "finished_ok":
                yield Claim(output_directory, skip=True)
                return
            if state == "finished" or (state == "unfinished" and not keep_unfinished):
                _clear(output_directory)
            else:
                _remove_temporary_files(output_directory)
            _write_marker(output_directory, step_name)
            yield Claim(output_directory, skip=False)
            _remove(os.path.join(output_directory, UNFINISHED_MARKER))
    except BaseException:
        if not existed:
            _remove_if_untouched(output_directory)
        raise


class Claim:
    """The result of `claim`: the directory, and whether there is nothing to do."""

    def __init__(self, directory, skip):
        self.directory = directory
        self.skip = skip


@contextlib.contextmanager
def locked(directory):
    """Holds the exclusive lock of `directory` (created if needed) for the block; re-entrant in a process.

    Raises OutputDirectoryLocked naming the holder, unless `set_wait_for_lock(True)`, which waits.
    """
    _make_directory(directory)
    key = os.path.realpath(directory)
    if key in _held_locks:
        _held_locks[key][1] += 1
        try:
            yield
        finally:
            _held_locks[key][1] -= 1
        return
    lock_path = os.path.join(directory, LOCK_FILE)
    fd = _open_locked(lock_path, directory)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                                 "since": time.strftime("%Y-%m-%d %H:%M:%S")}).encode())
        _held_locks[key] = [fd, 1]
        try:
            yield
        finally:
            del _held_locks[key]
            _remove(lock_path)  # while still locked: a waiter then finds its file gone and locks a new one
    finally:
        os.close(fd)  # closing releases the lock


def _open_locked(lock_path, directory):
    """Opens and locks `lock_path`, retrying if the holder removed the file while this run waited for it."""
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise UserError("cannot create the lock file {} ({}); the directory must be writable".format(
                lock_path, e.strerror)) from None
        try:
            _acquire(fd, lock_path, directory)
            if _same_file(fd, lock_path):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _same_file(fd, path):
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return False
    return os.path.samestat(os.fstat(fd), status)


def _acquire(fd, lock_path, directory):
    if fcntl is None:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except OSError as e:
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
    holder = _lock_holder(lock_path)
    if not _settings["wait_for_lock"]:
        raise OutputDirectoryLocked("{} is in use by another run ({}); wait for it to finish, or pass "
                                    "--wait_for_lock to wait".format(directory, holder))
    fcntl.flock(fd, fcntl.LOCK_EX)


def _lock_holder(lock_path):
    try:
        with open(lock_path, encoding="utf-8") as f:
            info = json.loads(f.read() or "{}")
        return "host {}, pid {}, since {}".format(info.get("host", "?"), info.get("pid", "?"), info.get("since", "?"))
    except (OSError, ValueError):
        return "holder unknown"


def _refuse_inputs(output_directory, inputs):
    output_path = os.path.realpath(output_directory)
    for input_directory in inputs:
        if input_directory is None:
            continue
        input_path = os.path.realpath(input_directory)
        if input_path == output_path or input_path.startswith(output_path.rstrip(os.sep) + os.sep):
            raise UserError("output directory {} {} the input {}; choose another one, e.g. {}".format(
                output_directory, "is" if input_path == output_path else "contains", input_directory,
                _sibling_suggestion(input_path)))


def _sibling_suggestion(input_path):
    return os.path.join(os.path.dirname(input_path), os.path.basename(input_path) + "_out")


def _make_directory(directory):
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise UserError("cannot create the output directory {} ({})".format(directory, e.strerror)) from None


def _step_finished(directory, step_name):
    return os.path.exists(os.path.join(directory, "results", "aggregate", "{}.json".format(step_name)))


def finished_step(directory):
    """The step whose finished records a directory holds as its own, or None.

    A directory's `results/aggregate/` also holds the records its step carried forward from its input (an
    evaluation holds `train.json` and `postprocess.json`); its own step is the one whose aggregate record
    includes every other step's results.
    """
    aggregate = os.path.join(directory, "results", "aggregate")
    if not os.path.isdir(aggregate):
        return None
    steps = sorted(name[:-len(".json")] for name in os.listdir(aggregate)
                   if name.endswith(".json") and not name.startswith("."))
    if len(steps) <= 1:
        return steps[0] if steps else None
    for step in steps:
        try:
            with open(os.path.join(aggregate, step + ".json"), encoding="utf-8") as f:
                namespaces = {key.split(".", 1)[0] for key in json.load(f)}
        except (OSError, ValueError):
            continue
        if all(other + "_results" in namespaces for other in steps):
            return step
    return steps[-1]


def _foreign_entries(directory):
    """Entries other than the lock, the marker and temporary files of interrupted writes."""
    return sorted(name for name in os.listdir(directory) if name not in _OWN_FILES and not _is_temporary(name))


def _is_temporary(name):
    return name.startswith(".") and name.endswith(".tmp")


def _marker_step(directory):
    try:
        with open(os.path.join(directory, UNFINISHED_MARKER), encoding="utf-8") as f:
            return json.loads(f.read()).get("step")
    except (OSError, ValueError, AttributeError):
        return None


def _legacy_own(directory):
    """Training directories written before markers existed: only a checkpoint and training logs."""
    allowed = {"checkpoints", "scalars.jsonl", "tensorboard", "exported"}
    return set(_foreign_entries(directory)) <= allowed and os.path.isdir(os.path.join(directory, "checkpoints"))


def _write_marker(directory, step_name):
    if _marker_step(directory) == step_name:
        return  # already marked (an interrupted run of this step): left as it is
    from dlib_torch.utils import atomic
    atomic.write_text(os.path.join(directory, UNFINISHED_MARKER), json.dumps(
        {"step": step_name, "note": "dlib_torch is writing this directory; a rerun of the same step redoes or "
                                    "resumes it"}) + "\n")


def _clear(directory):
    """Removes everything in a directory this step owns, except its lock (held by this process)."""
    for name in os.listdir(directory):
        if name == LOCK_FILE:
            continue
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def _remove_temporary_files(directory):
    for root, _, files in os.walk(directory):
        for name in files:
            if _is_temporary(name):
                _remove(os.path.join(root, name))


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _remove_if_untouched(directory):
    """Removes a directory `claim` created if it holds nothing but the lock and marker."""
    try:
        if not _foreign_entries(directory):
            for name in _OWN_FILES:
                _remove(os.path.join(directory, name))
            os.rmdir(directory)
    except OSError:
        pass
