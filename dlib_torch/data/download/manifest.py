"""The manifest beside the data: `<data root>/dtl_download.sha256`, in `sha256sum` format.

It records the size and SHA-256 of every file dtl_download put in place, so that `dtl_download --verify` (or
`sha256sum -c dtl_download.sha256` in the data root) can later check files whose digests were never published.
A size is a comment line `#size <bytes>  <path>` before the file's digest line; sha256sum skips comments.
"""
import hashlib
import os

from dlib_torch.utils import atomic
from dlib_torch.utils import file_lock

MANIFEST_NAME = "dtl_download.sha256"
BLOCK = 1 << 20


def manifest_path(data_dir):
    return os.path.join(data_dir, MANIFEST_NAME)


SIZE_PREFIX = "#size "


def read(data_dir):
    """{path relative to the data root: SHA-256 hex digest} of the recorded files."""
    return _read(data_dir)[0]


def read_sizes(data_dir):
    """{path relative to the data root: size in bytes} of the recorded files (older manifests may lack some)."""
    return _read(data_dir)[1]


def record(data_dir, digests, sizes=None, forget=()):
    """Adds or replaces entries {relative path: digest} and their {relative path: size} in the manifest, and drops
    the entries of `forget` (atomically, under a lock). A new digest without a size drops the old size of that
    path."""
    with file_lock.locked(os.path.join(data_dir, "." + MANIFEST_NAME + ".lock")):
        entries, recorded_sizes = _read(data_dir)
        for path in list(digests) + list(forget):
            recorded_sizes.pop(path, None)
        for path in forget:
            entries.pop(path, None)
        entries.update(digests)
        recorded_sizes.update(sizes or {})
        lines = []
        for path in sorted(entries):
            if path in recorded_sizes:
                lines.append("{}{}  {}\n".format(SIZE_PREFIX, int(recorded_sizes[path]), path))
            lines.append("{}  {}\n".format(entries[path], path))
        atomic.write_text(manifest_path(data_dir), "".join(lines))


def _read(data_dir):
    digests, sizes = {}, {}
    try:
        with open(manifest_path(data_dir), encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith(SIZE_PREFIX):
                    size, sep, path = line[len(SIZE_PREFIX):].partition("  ")
                    if sep and size.isdigit():
                        sizes[path] = int(size)
                    continue
                digest, sep, path = line.partition("  ")
                if sep and not line.startswith("#"):
                    digests[path] = digest
    except FileNotFoundError:
        pass
    return digests, {path: size for path, size in sizes.items() if path in digests}


def sha256_of(path):
    """SHA-256 hex digest of a file, read a block at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
