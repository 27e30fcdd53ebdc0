"""Atomic file writes: write a temporary file beside the target, then rename it into place.

A write that fails for lack of space or permission leaves the previous file intact and raises a one-line
UserError naming the path (`No space left on device while writing ...`); the temporary file is removed, and
one left by a killed process (`.<name>.<random>.tmp`) is cleaned by the next run of its stage.
"""
import contextlib
import errno
import os
import shutil
import tempfile

from dlib_torch.utils.errors import UserError

_IO_ERRNOS = (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EFBIG)


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path in the target's directory; on success it is renamed onto `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as e:
        raise (_as_user_error(e, path) or e) from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600 files; give the usual permissions
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as e:
        error = _as_user_error(e, path, directory)  # before removing the temporary file, which fills the disk
        if os.path.exists(tmp):
            os.unlink(tmp)
        if error is not None:
            raise error from None
        raise


def _as_user_error(error, path, directory=None):
    """A one-line UserError for a write that failed for lack of space or permission, else None."""
    if isinstance(error, OSError) and error.errno in _IO_ERRNOS:
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
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
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
        os.makedirs(target_dir, exist_ok=True)
        for name in files:
            if name.startswith(".") and name.endswith(".tmp"):
                continue  # a temporary file of an interrupted write
            copy_file(os.path.join(root, name), os.path.join(target_dir, name))
