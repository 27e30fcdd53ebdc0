"""The compact image cache beside a download: uint8 rows (bit-packed for binary images), read by row on demand.

A download is converted once into a .npy file of uint8 rows in row-major factor order (or, for an uncompressed
.npz, read where it lies). An index `<name>.cache.json` beside it records where the rows are, the factor grid
the file holds, and the size and modification time of the source files, so a changed download is rebuilt.

Rows are read with `pread` into a fresh buffer. Unlike a memory map, this leaves no file pages in the process's
resident memory: sampling millions of random rows from a 13 GB cache keeps the process at tens of MB, while
the operating system's page cache (shared, reclaimable) keeps the hot rows fast.
"""
import json
import logging
import os
import shutil

import numpy as np

from dlib_torch.data.ground_truth import array_files
from dlib_torch.utils import atomic
from dlib_torch.utils import file_lock
from dlib_torch.utils.errors import UserError

INDEX_VERSION = 1
logger = logging.getLogger(__name__)


class ImageRows:
    """Rows of a uint8 image array stored in a file from byte `offset` on, read on demand by `pread`."""

    def __init__(self, path, offset, num_rows, row_shape, bit_packed=False):
        """`row_shape` is the shape of one image as `read` returns it; bit-packed rows store 8 pixels a byte."""
        self.path = path
        self.offset = int(offset)
        self.num_rows = int(num_rows)
        self.row_shape = tuple(int(s) for s in row_shape)
        self.bit_packed = bool(bit_packed)
        if self.bit_packed:
            self.stored_row_shape = self.row_shape[:-1] + ((self.row_shape[-1] + 7) // 8,)
        else:
            self.stored_row_shape = self.row_shape
        self.row_bytes = int(np.prod(self.stored_row_shape, dtype=np.int64))
        needed = self.offset + self.num_rows * self.row_bytes
        if os.path.getsize(path) < needed:
            raise UserError("{} is truncated ({} bytes, {} expected); delete it and its .cache.json to rebuild it"
                            .format(path, os.path.getsize(path), needed))
        self._fd = None
        self._pid = None

    def __len__(self):
        return self.num_rows

    def read(self, rows):
        """uint8 array [len(rows)] + row_shape holding the given rows (any order, repeats allowed)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= self.num_rows):
            raise IndexError("row out of range [0, {}) in {}".format(self.num_rows, self.path))
        out = np.empty((rows.size, self.row_bytes), dtype=np.uint8)
        fd = self._file()
        offsets = [self.offset + row * self.row_bytes for row in rows.tolist()]
        if len(offsets) > 1 and hasattr(os, "posix_fadvise"):
            # Ask for every row at once, so that rows not in the page cache are read from disk in parallel
            # (about 3x faster cold); rows already cached cost one cheap call each.
            for offset in offsets:
                os.posix_fadvise(fd, offset, self.row_bytes, os.POSIX_FADV_WILLNEED)
        for i, offset in enumerate(offsets):
            _pread_into(fd, out[i], offset)
        out = out.reshape((rows.size,) + self.stored_row_shape)
        if self.bit_packed:
            out = np.unpackbits(out, axis=-1, count=self.row_shape[-1])
        return out

    def _file(self):
        # One descriptor per process: a forked worker opens its own.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDONLY)
            self._pid = os.getpid()
        return self._fd

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_fd"] = state["_pid"] = None
        return state

    def __del__(self):
        if getattr(self, "_fd", None) is not None and self._pid == os.getpid():
            os.close(self._fd)


def _pread_into(fd, row, offset):
    """Reads len(row) bytes at `offset` into the uint8 array `row`."""
    if hasattr(os, "preadv"):
        view = memoryview(row)
        done = 0
        while done < len(view):
            n = os.preadv(fd, [view[done:]], offset + done)
            if n <= 0:
                raise IOError("unexpected end of file at byte {}".format(offset + done))
            done += n
    else:
        data = os.pread(fd, row.size, offset)
        if len(data) != row.size:
            raise IOError("unexpected end of file at byte {}".format(offset))
        row[:] = np.frombuffer(data, dtype=np.uint8)


class NpyWriter:
    """Writes a .npy array of uint8 rows, in any row order, to a temporary file renamed into place on success."""

    def __init__(self, path, shape, dtype=np.uint8):
        self.path = path
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self.tmp_path = os.path.join(os.path.dirname(path), ".dtl_tmp." + os.path.basename(path))
        require_free_space(os.path.dirname(path), self.shape[0] * self.row_bytes, path)
        with open(self.tmp_path, "wb") as f:
            array_files.write_npy_header(f, self.shape, self.dtype)
            self.offset = f.tell()
        self._fd = os.open(self.tmp_path, os.O_WRONLY)

    def write(self, first_row, rows):
        """Writes consecutive rows starting at row `first_row`."""
        data = memoryview(np.ascontiguousarray(rows, dtype=self.dtype)).cast("B")
        position = self.offset + int(first_row) * self.row_bytes
        try:
            while len(data):
                n = os.pwrite(self._fd, data, position)
                data, position = data[n:], position + n
        except OSError as e:
            raise _disk_error(e, self.path) from e

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        complete = False
        try:
            if exc_type is None:
                written = os.fstat(self._fd).st_size
                expected = self.offset + self.shape[0] * self.row_bytes
                if written != expected:
                    raise IOError("{}: wrote {} bytes, expected {}".format(self.path, written, expected))
                os.fsync(self._fd)
                complete = True
        finally:
            os.close(self._fd)
            if complete:
                os.replace(self.tmp_path, self.path)
            elif os.path.exists(self.tmp_path):
                os.unlink(self.tmp_path)
        return False


def images_from_npz(npz_path, member, images_path):
    """The `images` entry of a cache index for uint8 images [..., H, W, C] stored as `member` of an .npz file.

    An uncompressed member (np.savez) is read where it lies; a compressed one is streamed chunk by chunk into
    the .npy file `images_path`. Leading dimensions beyond the first are flattened into rows (row-major).
    """
    with array_files.open_npz_member(npz_path, member) as (f, shape, dtype):
        if dtype != np.uint8 or len(shape) < 4:
            raise UserError("{}: `{}` is {} {}, expected uint8 images [N, H, W, C]".format(
                npz_path, member, dtype, list(shape)))
        num_rows = int(np.prod(shape[:-3], dtype=np.int64))
        entry = {"num_rows": num_rows, "row_shape": list(shape[-3:]), "bit_packed": False}
        offset = array_files.stored_npz_member_offset(npz_path, member)
        if offset is not None:
            return dict(entry, file=os.path.basename(npz_path), offset=offset)
        rows_shape = (num_rows,) + tuple(shape[-3:])
        with NpyWriter(images_path, rows_shape) as writer:
            for start, chunk in array_files.iter_row_chunks(f, rows_shape, dtype):
                writer.write(start, chunk)
    return dict(entry, file=os.path.basename(images_path), offset=writer.offset)


def require_free_space(directory, num_bytes, what):
    """Raises a one-line UserError if `directory` has less than `num_bytes` free for writing `what`."""
    free = shutil.disk_usage(directory).free
    if free < num_bytes:
        raise UserError("no space left for {}: it needs {}, {} has {} free".format(
            what, _human_bytes(num_bytes), directory, _human_bytes(free)))


def _human_bytes(num_bytes):
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if num_bytes >= size:
            return "{:.1f} {}".format(num_bytes / size, unit)
    return "{} bytes".format(int(num_bytes))


def _disk_error(error, path):
    if getattr(error, "errno", None) == 28:  # ENOSPC
        return UserError("no space left on the device while writing {}".format(path))
    return error


def index_path_for(directory, stem):
    """Path of the cache index `<directory>/<stem>.cache.json`."""
    return os.path.join(directory, stem + ".cache.json")


def ensure(index_path, sources, build, dataset_name):
    """Returns the cache index built from the files `sources`, building it first when missing or stale.

    `build()` writes the cache files beside `index_path` and returns the index (a JSON-able dict with at least
    `images`: file, offset, num_rows, row_shape, bit_packed). Concurrent jobs wait for one builder.
    """
    index = _load_fresh_index(index_path, sources)
    if index is not None:
        return index
    try:
        with file_lock.locked(os.path.join(os.path.dirname(index_path),
                                           "." + os.path.basename(index_path) + ".lock")):
            index = _load_fresh_index(index_path, sources)  # another job may have built it meanwhile
            if index is None:
                logger.warning("Converting the files of data set '%s' into a compact cache in %s (once; this can "
                               "take minutes).", dataset_name, os.path.dirname(index_path))
                stale_images = _images_file(index_path, _read_index(index_path))
                index = dict(build(), version=INDEX_VERSION, sources=_fingerprint(index_path, sources))
                atomic.write_text(index_path, json.dumps(index, indent=1, sort_keys=True))
                if stale_images not in (None, _images_file(index_path, index)) and stale_images not in sources \
                        and os.path.exists(stale_images):
                    os.unlink(stale_images)  # the previous build's copy, now unused
    except PermissionError as e:
        raise UserError("cannot write the cache of data set '{}' beside its files ({}); run `dtl_download "
                        "--dataset={}` once as a user who can write there".format(dataset_name, e, dataset_name))
    return index


def open_images(index_path, index):
    """The `ImageRows` that the cache index describes."""
    images = index["images"]
    return ImageRows(os.path.join(os.path.dirname(index_path), images["file"]), images["offset"],
                     images["num_rows"], images["row_shape"], images.get("bit_packed", False))


def require_grid(index, expected, path, dataset_name):
    """Raises a UserError unless the file's factor grid (recorded in the index) is `expected`."""
    found = [int(s) for s in index["factor_sizes"]]
    if found != [int(s) for s in expected]:
        raise UserError("{} holds a factor grid of {} but data set '{}' expects {}; the file is not the "
                        "published one (delete it and run `dtl_download --dataset={}`)".format(
                            path, found, dataset_name, list(expected), dataset_name))


def _fingerprint(index_path, sources):
    directory = os.path.dirname(index_path)
    return {os.path.relpath(s, directory): [os.stat(s).st_size, os.stat(s).st_mtime_ns] for s in sources}


def _read_index(index_path):
    try:
        with open(index_path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError, RecursionError):
        return None


def _images_file(index_path, index):
    if not index or "images" not in index:
        return None
    return os.path.join(os.path.dirname(index_path), index["images"]["file"])


def _load_fresh_index(index_path, sources):
    index = _read_index(index_path)
    if index is None or index.get("version") != INDEX_VERSION or \
            index.get("sources") != _fingerprint(index_path, sources):
        return None
    if not os.path.exists(_images_file(index_path, index)):
        return None
    return index
