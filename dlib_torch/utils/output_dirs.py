"""The one policy every stage follows for its output directory (DESIGN §2 and §8).

A stage owns only what it wrote, and knows it from the directory's manifest (utils/manifest.py), never by
inference. `claim` takes the directory's exclusive lock for the duration of the step, refuses a directory that
is or contains one of the stage's inputs, or a non-empty one without a manifest of this step, and marks the
directory as unfinished work (`.dtl_unfinished`, naming the step) until the records are written. A rerun then
redoes (or, for training, resumes) its own unfinished work; `--overwrite` replaces only a finished step of the
same kind. Either way only manifest entries whose content is unchanged are removed: a user's file beside the
outputs stays, and one of the step's files that the user edited stops the command (one line naming it) before
anything is removed. Nothing here imports torch, so the command-line stages can refuse bad output paths cheaply.

Locks: `<dir>/.dtl_lock`, held with `fcntl.flock` by an open file, so a crashed holder leaves no stale lock
(its file stays, harmless; a normal release removes it).
A second run on a locked directory exits at once with status 75 naming the holder's host and pid, or waits
for it with `--wait_for_lock` (`set_wait_for_lock`).
"""
import contextlib
import errno
import json
import os
import socket
import time

try:
    import fcntl
except ImportError:  # not POSIX: no locking
    fcntl = None

from dlib_torch.utils import manifest as manifest_lib
from dlib_torch.utils.errors import UserError

UNFINISHED_MARKER = ".dtl_unfinished"
LOCK_FILE = ".dtl_lock"
_OWN_FILES = (UNFINISHED_MARKER, LOCK_FILE, manifest_lib.MANIFEST_FILE)
# The files an older dlib_torch's unfinished training wrote (adopted into a new manifest so that it resumes), beside
# TensorBoard's event files.
_LEGACY_TRAINING_FILES = (os.path.join("checkpoints", "latest.pt"), os.path.join("checkpoints", "best.pt"),
                          "scalars.jsonl")

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
                           keep_unfinished=False, kind=None):
    """Checks, without changing anything, that a stage may write `output_directory`; raises a one-line
    UserError otherwise. Returns the directory's state: 'new', 'unfinished', 'finished' or 'finished_ok'
    (finished, nothing to do).

    Args:
      output_directory: the stage's output directory.
      step_name: the stage's records step (train, postprocess, evaluation, visualize, ...).
      overwrite: a finished step of the same kind may be replaced.
      inputs: directories the stage reads; the output may be neither one of them nor contain one.
      finished_ok: a finished directory (without `overwrite`) is 'finished_ok' instead of an error.
      keep_unfinished: the step resumes unfinished work (training); its files are kept, not redone.
      kind: what wrote the step when commands share a step name (dtl_udr's `udr` records are step
        `evaluation`); default `step_name`. A directory of another kind is never taken over.
    """
    _refuse_inputs(output_directory, inputs)
    if os.path.exists(output_directory) and not os.path.isdir(output_directory):
        raise UserError("output directory {} is a file; choose another path".format(output_directory))
    if not os.path.isdir(output_directory):
        return "new"
    kind = kind or step_name
    owner = manifest_lib.Manifest.load(output_directory)
    marker_step = _marker_step(output_directory)
    if marker_step is not None and marker_step != step_name:
        raise UserError("{} holds unfinished work of step '{}', not '{}'; choose another output directory".format(
            output_directory, marker_step, step_name))
    if owner is None:
        return _state_without_manifest(output_directory, step_name, overwrite, finished_ok, keep_unfinished,
                                       marker_step)
    if owner.step != step_name or owner.kind != kind:
        if owner.step != step_name and owner.state("results/aggregate/{}.json".format(owner.step)) == "own":
            raise UserError("output directory {} already holds finished '{}' results; nothing there is deleted: "
                            "choose a new or empty directory".format(output_directory, owner.step))
        raise UserError("output directory {} holds the work of another step ('{}'{}); nothing there is replaced: "
                        "choose another output directory".format(
                            output_directory, owner.step, "" if owner.kind == owner.step else
                            ", written as '{}'".format(owner.kind)))
    record = "results/aggregate/{}.json".format(step_name)
    if marker_step is None and owner.state(record) == "own":
        if not overwrite:
            if finished_ok:
                return "finished_ok"
            raise UserError("{} already holds finished '{}' results; pass --overwrite to replace them".format(
                output_directory, step_name))
        _refuse_changed(owner)
        return "finished"
    if not keep_unfinished:
        _refuse_changed(owner)
    return "unfinished"


def _state_without_manifest(output_directory, step_name, overwrite, finished_ok, keep_unfinished, marker_step):
    """A directory with no manifest: empty (new), or written by an older dlib_torch, or someone else's."""
    foreign = _foreign_entries(output_directory)
    if not foreign:
        return "new"
    if marker_step is None and finished_step(output_directory) == step_name:
        if not overwrite:
            if finished_ok:
                return "finished_ok"
            raise UserError("{} already holds finished '{}' results; pass --overwrite to replace them".format(
                output_directory, step_name))
        raise UserError("{} holds finished '{}' results of an older dlib_torch, which kept no list of the files it "
                        "wrote; nothing there is deleted: move it away (or delete it yourself), then run the same "
                        "command again".format(output_directory, step_name))
    if keep_unfinished and marker_step == step_name and _legacy_training(output_directory):
        return "unfinished"
    raise UserError("output directory {} already holds files this stage did not write (e.g. {}); nothing there "
                    "is deleted: choose a new or empty directory".format(output_directory, foreign[0]))


def _refuse_changed(owner):
    changed = owner.changed()
    if changed:
        raise UserError("{} was written by this step but has changed since; nothing was deleted: move it away (or "
                        "restore it), then run the same command again".format(owner.full(changed[0])))


@contextlib.contextmanager
def claim(output_directory, step_name, overwrite=False, inputs=(), keep_unfinished=False, finished_ok=False,
          kind=None):
    """Locks and prepares `output_directory` for `step_name`; yields a Claim whose `skip` is True when the
    step is already finished and `finished_ok` (nothing to do).

    A new directory is created with a manifest and marked unfinished; an unfinished one of this step has its
    own files removed (or kept, with `keep_unfinished`, for training to resume); a finished one is replaced
    only with `overwrite`, and then only the files its manifest lists unchanged. Inside the block every file
    the writers of utils/atomic.py write there is recorded in the manifest. On a normal exit the marker is
    removed (the step's records must have been written inside it); on an exception it stays, so a rerun knows
    the work is its own. The lock is released either way.
    """
    _refuse_inputs(output_directory, inputs)
    if os.path.exists(output_directory) and not os.path.isdir(output_directory):
        raise UserError("output directory {} is a file; choose another path".format(output_directory))
    existed = os.path.isdir(output_directory)
    _make_directory(output_directory)
    try:
        with locked(output_directory):
            state = check_output_directory(output_directory, step_name, overwrite, inputs, finished_ok,
                                           keep_unfinished, kind)
            if state == "finished_ok":
                yield Claim(output_directory, skip=True)
                return
            owner = _manifest_for_claim(output_directory, step_name, kind or step_name, keep_unfinished)
            if state == "finished" or (state == "unfinished" and not keep_unfinished):
                owner.remove_owned()
            else:
                owner.remove_temporaries()
            _write_marker(output_directory, step_name)
            manifest_lib.activate(owner)
            try:
                yield Claim(output_directory, skip=False, manifest=owner)
            finally:
                manifest_lib.deactivate(owner)
            _remove(os.path.join(output_directory, UNFINISHED_MARKER))
            owner.compact()
    except BaseException:
        if not existed:
            _remove_if_untouched(output_directory)
        raise


def _manifest_for_claim(directory, step_name, kind, keep_unfinished):
    """The directory's manifest; a new one for a new directory, adopting an older dlib_torch's unfinished
    training files (its known layout only) so that they resume."""
    owner = manifest_lib.Manifest.load(directory)
    if owner is not None:
        return owner
    try:
        owner = manifest_lib.Manifest.create(directory, step_name, kind)
    except OSError as e:
        raise UserError("cannot write the manifest in {} ({}); the directory must be writable".format(
            directory, e.strerror)) from None
    if keep_unfinished and _marker_step(directory) == step_name:
        for relative in _LEGACY_TRAINING_FILES:
            path = os.path.join(directory, relative)
            if os.path.isfile(path) and not os.path.islink(path):
                owner.adopt(path)
        events = os.path.join(directory, "tensorboard")
        for name in sorted(os.listdir(events)) if os.path.isdir(events) and not os.path.islink(events) else []:
            if name.startswith("events.out.tfevents.") and os.path.isfile(os.path.join(events, name)):
                owner.adopt(os.path.join(events, name))
    return owner


class Claim:
    """The result of `claim`: the directory, whether there is nothing to do, and its manifest."""

    def __init__(self, directory, skip, manifest=None):
        self.directory = directory
        self.skip = skip
        self.manifest = manifest


@contextlib.contextmanager
def owned_files(directory, overwrite=False, inputs=(), kind="files"):
    """For commands that write single files into a directory that is not a step's (dtl_aggregate's
    --output_path, dtl_submit's job scripts): locks `directory` and records what the block writes there in
    its manifest, so that a rerun replaces its own files and never a user's.

    Writing over an existing file the directory's manifest does not list unchanged is refused with one line,
    unless `overwrite` (None: the command has no --overwrite); an input (a path in `inputs`) is never written.
    """
    _make_directory(directory)
    with locked(directory):
        owner = manifest_lib.Manifest.load(directory)
        if owner is not None and owner.step is not None:
            raise UserError("{} holds the output of step '{}'; write this file elsewhere".format(directory,
                                                                                                 owner.step))
        if owner is None:
            try:
                owner = manifest_lib.Manifest.create(directory, None, kind)
            except OSError as e:
                raise UserError("cannot write in {} ({}); choose a writable path".format(directory,
                                                                                         e.strerror)) from None
        guard = _OwnedFiles(owner, overwrite, [os.path.realpath(p) for p in inputs])
        manifest_lib.activate(owner)
        try:
            yield guard
        finally:
            manifest_lib.deactivate(owner)


class _OwnedFiles:
    """What `owned_files` yields: `check(path, flag)` before writing a file of the directory."""

    def __init__(self, owner, overwrite, inputs):
        self.owner, self.overwrite, self.inputs = owner, overwrite, inputs

    def check(self, path, flag="--output_path"):
        """Refuses (one line) to write `path` if it is an input, or a file this command did not write and
        the user did not pass --overwrite; otherwise makes it replaceable."""
        named = "{}={}".format(flag, path) if flag.startswith("--") else "{} {}".format(flag, path)
        if os.path.basename(path).startswith(".dtl_"):
            raise UserError("{} has a name the tool keeps for its own files (.dtl_*); choose another".format(named))
        if os.path.realpath(path) in self.inputs:
            raise UserError("{} is one of the files this command reads; choose another path".format(named))
        if os.path.isdir(path):
            raise UserError("{} is a directory; name a file".format(named))
        state = self.owner.state(self.owner.relative(path))
        if state in ("foreign", "changed"):
            if not self.overwrite:
                raise UserError("{} exists and {}; nothing was replaced: {}choose another path".format(
                    named, "was not written by this command" if state == "foreign" else
                    "has changed since this command wrote it", "pass --overwrite to replace it, or "
                    if self.overwrite is not None else "move it away or "))
            self.owner.adopt(path)


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
        try:
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                                     "since": time.strftime("%Y-%m-%d %H:%M:%S")}).encode())
        except OSError as e:
            _remove(lock_path)
            raise UserError("{} while writing the lock file {}; nothing was changed: free some space (or choose "
                            "another directory), then run the same command again".format(e.strerror, lock_path)
                            ) from None
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
        if os.path.islink(lock_path) or (os.path.lexists(lock_path) and not os.path.isfile(lock_path)):
            raise UserError("{} is not dlib_torch's lock file (a link or a folder, not a file); the name is the "
                            "tool's: move it away, then run the same command again".format(lock_path))
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
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
    except (OSError, ValueError, AttributeError, RecursionError):
        return "holder unknown"


def _refuse_inputs(output_directory, inputs):
    """An output that is, contains or lies inside one of the inputs is refused (one line)."""
    output_path = os.path.realpath(output_directory)
    if os.path.basename(output_path).startswith(".dtl_"):
        raise UserError("{} has a name the tool keeps for its own files (.dtl_*); choose another".format(
            output_directory))
    for input_directory in inputs:
        if input_directory is None:
            continue
        input_path = os.path.realpath(input_directory)
        if input_path == output_path or input_path.startswith(output_path.rstrip(os.sep) + os.sep):
            raise UserError("output directory {} {} the input {}; choose another one, e.g. {}".format(
                output_directory, "is" if input_path == output_path else "contains", input_directory,
                _sibling_suggestion(input_path)))
        if os.path.isdir(input_path) and output_path.startswith(input_path.rstrip(os.sep) + os.sep):
            raise UserError("output directory {} lies inside the input {}; choose one outside it, e.g. {}".format(
                output_directory, input_directory, _sibling_suggestion(input_path)))


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
        except (OSError, ValueError, RecursionError, AttributeError):
            continue
        if all(other + "_results" in namespaces for other in steps):
            return step
    return steps[-1]


def _foreign_entries(directory):
    """Entries other than the tool's bookkeeping (lock, marker, manifest, temporary files: names `.dtl_*`)."""
    return sorted(name for name in os.listdir(directory) if not name.startswith(".dtl_"))


def _marker_step(directory):
    try:
        with open(os.path.join(directory, UNFINISHED_MARKER), encoding="utf-8") as f:
            return json.loads(f.read()).get("step")
    except (OSError, ValueError, AttributeError, RecursionError):
        return None


def _legacy_training(directory):
    """An older dlib_torch's unfinished training (it left its `.dtl_unfinished` marker): its checkpoint is there.
    Only the files of its known layout are adopted (`_manifest_for_claim`); anything else stays the user's."""
    return os.path.isfile(os.path.join(directory, "checkpoints", "latest.pt"))


def _write_marker(directory, step_name):
    if _marker_step(directory) == step_name:
        return  # already marked (an interrupted run of this step): left as it is
    from dlib_torch.utils import atomic
    atomic.write_text(os.path.join(directory, UNFINISHED_MARKER), json.dumps(
        {"step": step_name, "note": "dlib_torch is writing this directory; a rerun of the same step redoes or "
                                    "resumes it"}) + "\n")


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _remove_if_untouched(directory):
    """Removes a directory `claim` created if it holds nothing but the tool's bookkeeping."""
    try:
        if not _foreign_entries(directory):
            for name in os.listdir(directory):
                _remove(os.path.join(directory, name))
            os.rmdir(directory)
    except OSError:
        pass
