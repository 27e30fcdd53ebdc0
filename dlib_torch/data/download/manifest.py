"""The SHA-256 manifest beside the data: `<data root>/dtl_download.sha256`, in `sha256sum` format.

It records the digest of every file dtl_download put in place, so that `dtl_download --verify` (or
`sha256sum -c dtl_download.sha256` in the data root) can later check files whose digests were never published.
"""
import hashlib
import os

from dlib_torch.utils import atomic
from dlib_torch.utils import file_lock

MANIFEST_NAME = "dtl_download.sha256"
BLOCK = 1 << 20


def manifest_path(data_dir):
    return os.path.join(data_dir, MANIFEST_NAME)


def read(data_dir):
    """{path relative to the data root: SHA-256 hex digest} of the recorded files."""
    entries = {}
    try:
        with open(manifest_path(data_dir), encoding="utf-8") as f:
            for line in f:
                digest, sep, path = line.rstrip("\n").partition("  ")
                if sep:
                    entries[path] = digest
    except FileNotFoundError:
        pass
    return entries


def record(data_dir, digests):
    """Adds or replaces entries {relative path: digest} in the manifest (atomically, under a lock)."""
    with file_lock.locked(os.path.join(data_dir, "." + MANIFEST_NAME + ".lock")):
        entries = read(data_dir)
        entries.update(digests)
        atomic.write_text(manifest_path(data_dir),
                          "".join("{}  {}\n".format(entries[p], p) for p in sorted(entries)))


def sha256_of(path):
    """SHA-256 hex digest of a file, read a block at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
