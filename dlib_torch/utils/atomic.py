"""Atomic file writes: write a temporary file beside the target, then rename it into place.

A write that fails for lack of space or permission leaves the previous file intact and raises a one-line
UserError naming the path (`No space left on device while writing ...`); the temporary file is removed.
Inside a directory a command has claimed, every file and folder written here is recorded in its manifest
(utils/manifest.py), the temporary file before it exists, so one left by a killed process
(`.dtl_tmp.<name>.<random>`) is removed by the next run, and a file the command did not write is never replaced.
"""
import contextlib
import errno
import os
import shutil
import tempfile

from dlib_torch.utils import manifest as manifest_lib
from dlib_torch.utils.errors import UserError



@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path in the target's directory; on success it is renamed onto `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    owner = manifest_lib.active_for(path)
    if owner is not None:
        owner.check_replaceable(path)
    try:
        if owner is not None:
            tmp = owner.begin_write(path)
        else:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=manifest_lib.TEMP_PREFIX + os.path.basename(path) + ".")
            os.close(fd)
            os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600 files; give the usual permissions
    except OSError as e:
        raise (_as_user_error(e, path) or e) from None
    try:
        yield tmp
        os.replace(tmp, path)
        if owner is not None:
            owner.finish_write(path)
    except BaseException as e:
        error = _as_user_error(e, path, directory)  # before removing the temporary file, which fills the disk
        if os.path.exists(tmp):
            os.unlink(tmp)
        if error is not None:
            raise error from None
        raise


def makedirs(directory):
    """`os.makedirs(directory, exist_ok=True)`, recording the folders it creates in a claimed directory's manifest."""
    owner = manifest_lib.active_for(os.path.join(directory, "x"))
    try:
        if owner is not None:
            owner.makedirs(directory)
        else:
            os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise (_as_user_error(e, directory) or e) from None


def _as_user_error(error, path, directory=None):
    """A one-line UserError for a write that failed for lack of space or permission, else None."""
    if isinstance(error, OSError) and error.errno in _IO_FIXES:
        return UserError("{} while writing {}; nothing was replaced: {}".format(
            error.strerror or os.strerror(error.errno), path, _IO_FIXES.get(error.errno, "check the path")))
    # torch's zip writer reports a failed write as a RuntimeError ("file write failed", "unexpected pos ..."):
    # with the disk (nearly) full, that is the reason.
    if isinstance(error, RuntimeError) and directory is not None and _free_bytes(directory) < 1 << 20:
        return UserError("No space left on device while writing {}; nothing was replaced: {}".format(
            path, _IO_FIXES[errno.ENOSPC]))
    return None


_IO_FIXES = {
    errno.ENOSPC: "free some space (or choose another output directory), then run the same command again",
    errno.EDQUOT: "free some of your quota, then run the same command again",
    errno.EFBIG: "the file is larger than allowed here; raise the limit or write elsewhere",
    errno.EROFS: "the file system is read-only; choose a writable output directory",
    errno.EACCES: "the directory is not writable by you; fix its permissions or choose another one",
    errno.EPERM: "the directory is not writable by you; fix its permissions or choose another one",
    errno.ENOTDIR: "a file stands where a folder is needed; choose another path",
    errno.EEXIST: "a file stands where a folder is needed; choose another path",
    errno.EISDIR: "a folder stands where the file should go; choose another path",
}


def _free_bytes(directory):
    try:
        stats = os.statvfs(directory)
        return stats.f_bavail * stats.f_frsize
    except OSError:
        return 0


def _current_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text(path, text):
    """Writes `text` to `path` atomically (readers see the old file or the whole new one)."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path, data):
    """Writes `data` to `path` atomically. Serialise large objects into memory and write them with this, so
    that a full disk is an ordinary OSError (a writer in C++, torch's zip writer, may abort the process)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def copy_file(src, dst):
    """Copies a file atomically."""
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


def copy_tree(src, dst):
    """Recursively copies `src` into `dst` (created if needed), each file atomically."""
    for root, _, files in os.walk(src):
        target_dir = os.path.join(dst, os.path.relpath(root, src))
        makedirs(target_dir)
        for name in files:
            if name.startswith(".dtl_"):
                continue  # the bookkeeping of the command that wrote `src` (manifest, lock, temporary files)
            copy_file(os.path.join(root, name), os.path.join(target_dir, name))


def open_log(path):
    """Opens `path` for appending (a log the command writes as it runs), listing it in the claimed directory's
    manifest first; `seal` records its final content."""
    owner = manifest_lib.active_for(path)
    try:
        if owner is not None:
            owner.begin_log(path)
        else:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return open(path, "a", encoding="utf-8")
    except OSError as e:
        raise (_as_user_error(e, path) or e) from None


def register_log(path):
    """Lists a file another library appends to (TensorBoard's event file) in the claimed directory's manifest."""
    owner = manifest_lib.active_for(path)
    if owner is not None:
        owner.begin_log(path)


def seal(path):
    """Records the final size and SHA-256 of a log opened with `open_log` (after closing it)."""
    owner = manifest_lib.active_for(path)
    if owner is not None and os.path.isfile(path):
        owner.finish_write(path)
