"""The steps after a download: gunzip (smallNORB) and extracting the cars from the Cars3D tarball.

Each writes to a temporary name and renames into place, so a final path holds a complete file or nothing.
"""
import gzip
import hashlib
import os
import shutil
import tarfile
import zlib

from dlib_torch.utils.errors import UserError

BLOCK = 1 << 20


def gunzip(gz_path, out_path, dataset_name=None):
    """Decompresses `gz_path` to `out_path` (atomically, streaming); returns the output's SHA-256.

    A file that is not a complete gzip stream is a UserError naming it (and the data set, if given).
    """
    tmp = os.path.join(os.path.dirname(out_path), "." + os.path.basename(out_path) + ".tmp")
    digest = hashlib.sha256()
    try:
        with gzip.open(gz_path, "rb") as source, open(tmp, "wb") as target:
            while True:
                try:
                    block = source.read(BLOCK)
                except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
                    raise UserError("{} is not a complete gzip file ({}: {}); delete it and rerun dtl_download{}"
                                    .format(gz_path, type(e).__name__, " ".join(str(e).split()),
                                            " --dataset=" + dataset_name if dataset_name else "")) from None
                if not block:
                    break
                target.write(block)
                digest.update(block)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return digest.hexdigest()


def extract_cars(tar_path, cars_dir):
    """Extracts the tarball's `data/cars/*.mat` into `cars_dir` (renamed into place whole, replacing an existing
    one); returns {file name: SHA-256}. Nothing else in the tarball is written."""
    tmp_dir = os.path.join(os.path.dirname(cars_dir), "." + os.path.basename(cars_dir) + ".tmp")
    old_dir = os.path.join(os.path.dirname(cars_dir), "." + os.path.basename(cars_dir) + ".old")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    os.makedirs(tmp_dir)
    digests = {}
    try:
        with tarfile.open(tar_path, "r|*") as tar:  # a stream: one pass over the compressed file
            for member in tar:
                directory, name = os.path.split(member.name)
                if not (member.isfile() and directory.endswith("data/cars") and name.endswith(".mat")):
                    continue
                digest = hashlib.sha256()
                with tar.extractfile(member) as source, open(os.path.join(tmp_dir, name), "wb") as target:
                    for block in iter(lambda: source.read(BLOCK), b""):
                        target.write(block)
                        digest.update(block)
                digests[name] = digest.hexdigest()
        if not digests:
            raise UserError("{} holds no data/cars/*.mat files".format(tar_path))
        if os.path.exists(cars_dir):  # replaced on request (dtl_download --force): the old files go
            os.replace(cars_dir, old_dir)
        os.replace(tmp_dir, cars_dir)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        shutil.rmtree(old_dir, ignore_errors=True)
    return digests
