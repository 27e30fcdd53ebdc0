"""The steps after a download: gunzip (smallNORB) and extracting the cars from the Cars3D tarball.

Each file is written to a temporary name only the tool uses (`.dtl_tmp.*`) and renamed into place, so a final
path holds a complete file or nothing; only the files a data set consists of are replaced, never another file
of the user's beside them.
"""
import gzip
import hashlib
import os
import tarfile
import tempfile
import zlib

from dlib_torch.utils import manifest
from dlib_torch.utils.errors import UserError

BLOCK = 1 << 20


def gunzip(gz_path, out_path, dataset_name=None):
    """Decompresses `gz_path` to `out_path` (atomically, streaming); returns the output's SHA-256.

    A file that is not a complete gzip stream is a UserError naming it (and the data set, if given).
    """
    with gzip.open(gz_path, "rb") as source:
        return _write_atomically(_gzip_blocks(source, gz_path, dataset_name), out_path)


def _gzip_blocks(source, gz_path, dataset_name):
    """The decompressed blocks of an open gzip file; a damaged or truncated stream is a UserError naming it."""
    while True:
        try:
            block = source.read(BLOCK)
        except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
            raise UserError("{} is not a complete gzip file ({}: {}); delete it and rerun dtl_download{}"
                            .format(gz_path, type(e).__name__, " ".join(str(e).split()),
                                    " --dataset=" + dataset_name if dataset_name else "")) from None
        if not block:
            return
        yield block


def extract_cars(tar_path, cars_dir):
    """Extracts the tarball's `data/cars/*.mat` into `cars_dir`, each file written beside its final name and
    renamed into place (replacing the data set's file of that name on request, dtl_download --force); returns
    {file name: SHA-256}. Nothing else in the tarball is written, and nothing else in `cars_dir` is touched."""
    created = not os.path.isdir(cars_dir)
    os.makedirs(cars_dir, exist_ok=True)
    digests = {}
    with tarfile.open(tar_path, "r|*") as tar:  # a stream: one pass over the compressed file
        for member in tar:
            directory, name = os.path.split(member.name)
            if not (member.isfile() and directory.endswith("data/cars") and name.endswith(".mat")) or \
                    name.startswith(".") or name != os.path.basename(name):
                continue
            with tar.extractfile(member) as source:
                digests[name] = _write_atomically(iter(lambda: source.read(BLOCK), b""),
                                                  os.path.join(cars_dir, name))
    if not digests:
        if created:
            os.rmdir(cars_dir)
        raise UserError("{} holds no data/cars/*.mat files".format(tar_path))
    return digests


def _write_atomically(blocks, path):
    """Writes the byte `blocks` to a temporary file beside `path`, renames it into place and returns its SHA-256;
    on any error the temporary file is removed and `path` is left as it was."""
    tmp = _temporary_file(path)
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as target:
            for block in blocks:
                target.write(block)
                digest.update(block)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return digest.hexdigest()


def _temporary_file(path):
    """A new, empty temporary file beside `path`, named as only the tool names its files."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                               prefix=manifest.TEMP_PREFIX + os.path.basename(path)[:200] + ".")
    os.close(fd)
    return tmp
