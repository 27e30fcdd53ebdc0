"""Whether a file in the data root loads: what `dtl_download` checks of files without a published digest.

A digest recorded at the first download only proves that a file has not changed since; these checks prove it
is a file the loaders can read. The thorough check (`--verify`) reads every byte, as hashing does, so that it
also finds a bit flip inside a compressed array; the quick one (after a download) reads the headers alone.
A failure is one line naming the file and `dtl_download --dataset=X --force`, which replaces it.
"""
import os
import zipfile

import numpy as np

from dlib_torch.data.ground_truth import array_files
from dlib_torch.data.ground_truth import util


def check(path, dataset_name, data_dir, thorough=True):
    """Raises util.DamagedDataError unless `path` loads as the format its name says."""
    with util.reading(path, dataset_name, data_dir):
        _checker(path)(path, thorough)


def _checker(path):
    name = path.lower()
    if name.endswith(".npz"):
        return _check_npz
    if name.endswith((".jpg", ".jpeg", ".png")):
        return _check_picture
    if name.endswith(".h5"):
        return _check_h5
    if name.endswith(".mat") and os.path.basename(os.path.dirname(path)) == "small_norb":
        return _check_norb_matrix
    if name.endswith(".mat"):
        return _check_cars_mat
    raise ValueError("no check for a file of this kind")


def _check_npz(path, thorough):
    """Every member starts with a readable .npy header and (thorough) passes its CRC check."""
    with zipfile.ZipFile(path) as archive:
        damaged = archive.testzip() if thorough else None
        if damaged is not None:
            raise zipfile.BadZipFile("member {} fails its CRC check".format(damaged))
        if not archive.namelist():
            raise ValueError("the archive holds no arrays")
        for member in archive.namelist():
            with archive.open(member) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    np.lib.format.read_array_header_2_0(f)
                else:
                    raise ValueError("{}: unsupported .npy format version {}".format(member, version))


def _check_picture(path, thorough):
    from PIL import Image
    with Image.open(path) as picture:
        picture.load()  # decodes every pixel: a truncated file fails here


def _check_h5(path, thorough):
    import h5py
    with h5py.File(path, "r") as f:
        for name in ("images", "labels"):
            if name not in f:
                raise KeyError("no dataset '{}'".format(name))
            f[name][-1]  # the last row exists


def _check_norb_matrix(path, thorough):
    """The header is a NORB matrix header and the file holds exactly the data it announces."""
    with array_files.open_norb_matrix(path) as (f, shape, dtype):
        expected = f.tell() + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if os.path.getsize(path) != expected:
        raise EOFError("{} bytes where its header announces {}".format(os.path.getsize(path), expected))


def _check_cars_mat(path, thorough):
    from dlib_torch.data.ground_truth import cars3d
    cars3d.load_views(path)
