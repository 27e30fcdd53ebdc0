"""An exclusive lock on a file, so that concurrent jobs do not build or download the same file twice."""
import contextlib
import os

try:
    import fcntl
except ImportError:  # not POSIX: no locking; concurrent writers still never see half-written files
    fcntl = None

from dlib_torch.utils.errors import UserError


@contextlib.contextmanager
def locked(lock_path):
    """Holds an exclusive advisory lock on `lock_path` (created if needed) for the duration of the block."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(lock_path)), exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise UserError("cannot create the lock file {} ({}); the directory must be writable".format(
            lock_path, e.strerror)) from e
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
