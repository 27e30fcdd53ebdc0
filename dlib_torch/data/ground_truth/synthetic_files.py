"""Files in the published formats of the real data sets, with synthetic content, for tests and benchmarks.

Images come from a function `rows(start, stop)` that returns the uint8 images of those rows, and the writers
stream them a chunk at a time, so the benchmark can write files of the real sizes (up to 12.7 GB) in little
memory while the tests write tiny ones. Row order is row-major over the factor grid, as in the real files.
"""
import io
import os
import tarfile
import zipfile

import numpy as np
from PIL import Image

from dlib_torch.data.ground_truth import array_files
from dlib_torch.data.ground_truth import util

CHUNK_ROWS_BYTES = 16 << 20


def write_npz(path, arrays, compress, compresslevel=None):
    """Writes an .npz like np.savez / np.savez_compressed, streaming the large arrays.

    `arrays` maps a name to an ndarray (pickled if it holds objects) or to (shape, dtype, rows) with
    rows(start, stop) returning rows [start, stop). `compresslevel` 1 writes big files fast.
    """
    compression = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=compression, allowZip64=True,
                         compresslevel=compresslevel if compress else None) as archive:
        for name, value in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as f:
                if isinstance(value, np.ndarray):
                    np.lib.format.write_array(f, value, allow_pickle=True)
                else:
                    shape, dtype, rows = value
                    array_files.write_npy_header(f, shape, dtype)
                    _write_rows(f, shape, rows)


def _write_rows(f, shape, rows):
    row_bytes = max(1, int(np.prod(shape[1:], dtype=np.int64)))
    step = max(1, CHUNK_ROWS_BYTES // row_bytes)
    for start in range(0, shape[0], step):
        chunk = np.ascontiguousarray(rows(start, min(shape[0], start + step)))
        f.write(memoryview(chunk).cast("B"))


def write_dsprites_npz(path, latents_sizes, rows):
    """dSprites npz: `imgs` uint8 [N, 64, 64] in {0, 1}, `latents_classes`, `latents_values`, pickled `metadata`."""
    num = int(np.prod(latents_sizes))
    classes = util.rows_to_factors(np.arange(num), latents_sizes)
    metadata = np.array({
        "latents_sizes": np.array(latents_sizes, dtype=np.int64),
        "latents_names": ("color", "shape", "scale", "orientation", "posX", "posY"),
        "description": "synthetic dSprites-format file",
    }, dtype=object)
    write_npz(path, {"imgs": ((num, 64, 64), np.uint8, rows), "latents_classes": classes,
                     "latents_values": classes.astype(np.float64), "metadata": metadata}, compress=True)


def write_mpi3d_npz(path, num_images, rows, compress, compresslevel=None):
    """MPI3D npz: `images` uint8 [N, 64, 64, 3]."""
    write_npz(path, {"images": ((num_images, 64, 64, 3), np.uint8, rows)}, compress, compresslevel)


def write_shapes3d_h5(path, factor_sizes, rows):
    """DeepMind's 3dshapes.h5 layout: gzip-chunked `images` uint8 [N, 64, 64, 3], `labels` float64 [N, 6]."""
    import h5py
    num = int(np.prod(factor_sizes))
    indices = util.rows_to_factors(np.arange(num), factor_sizes)
    labels = indices / np.maximum(np.array(factor_sizes) - 1, 1)  # factor values in [0, 1]
    with h5py.File(path, "w") as f:
        images = f.create_dataset("images", (num, 64, 64, 3), dtype=np.uint8, chunks=(min(num, 100), 64, 64, 3),
                                  compression="gzip", compression_opts=1)
        step = max(1, CHUNK_ROWS_BYTES // (64 * 64 * 3))
        for start in range(0, num, step):
            stop = min(num, start + step)
            images[start:stop] = rows(start, stop)
        f.create_dataset("labels", data=labels)


def write_norb_matrix(path, shape, dtype, rows):
    """A NORB binary matrix (gzipped if `path` ends in .gz); `rows` as for `write_npz`, or an ndarray."""
    import gzip
    opener = (lambda p: gzip.open(p, "wb", compresslevel=1)) if path.endswith(".gz") else (lambda p: open(p, "wb"))
    if isinstance(rows, np.ndarray):
        array = rows.astype(dtype)
        rows = lambda start, stop: array[start:stop]  # noqa: E731
    with opener(path) as f:
        array_files.write_norb_header(f, shape, dtype)
        _write_rows(f, shape, lambda start, stop: np.asarray(rows(start, stop), dtype=dtype))


def write_smallnorb(directory, features, rows, image_size=96, gz=True):
    """smallNORB's six files: the first half of the rows is the training chunk, the rest the testing chunk.

    `features` [N, 5] holds (category, instance, elevation, azimuth / 2, lighting) of each image;
    rows(start, stop) returns uint8 [n, 2, image_size, image_size] (two cameras).
    """
    from dlib_torch.data.ground_truth import norb
    os.makedirs(directory, exist_ok=True)
    suffix = ".gz" if gz else ""
    num = len(features)
    for chunk, (start, stop) in zip(norb.CHUNKS, [(0, num // 2), (num // 2, num)]):
        prefix = os.path.join(directory, "smallnorb-{}-".format(chunk))
        chunk_features = np.asarray(features[start:stop], dtype=np.int64)
        info = chunk_features[:, 1:].copy()
        info[:, 2] *= 2  # azimuths are stored as 0, 2, ..., 34
        write_norb_matrix(prefix + "cat.mat" + suffix, (stop - start,), np.int32, chunk_features[:, 0])
        write_norb_matrix(prefix + "info.mat" + suffix, (stop - start, 4), np.int32, info)
        write_norb_matrix(prefix + "dat.mat" + suffix, (stop - start, 2, image_size, image_size), np.uint8,
                          lambda a, b, start=start: rows(start + a, start + b))


def write_cars_tarball(path, mesh_names, views):
    """The Cars3D tarball: `data/cars/<name>.mat` with `im` uint8 [H, W, 3, azimuths, elevations] per car.

    `views(i)` returns car i's `im`. Cars are added in the given (not necessarily sorted) order, beside a file
    of another data set that the extraction must leave out.
    """
    import scipy.io
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        _add_bytes(tar, "data/README.txt", b"synthetic Cars3D-format tarball\n")
        for i, name in enumerate(mesh_names):
            buffer = io.BytesIO()
            scipy.io.savemat(buffer, {"im": views(i)})
            _add_bytes(tar, "data/cars/{}.mat".format(name), buffer.getvalue())
        _add_bytes(tar, "data/sprites/sprites_splits.mat", b"not a car")


def _add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_jpg(path, image):
    """A JPEG of the uint8 RGB image [H, W, 3] (the Scream picture's format)."""
    Image.fromarray(image).save(path, format="JPEG", quality=95)
