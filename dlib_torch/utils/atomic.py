"""Atomic file writes: write a temporary file beside the target, then rename it into place."""
import contextlib
import os
import shutil
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path in the target's directory; on success it is renamed onto `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600 files; give the usual permissions
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
