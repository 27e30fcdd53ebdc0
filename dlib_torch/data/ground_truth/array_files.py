"""Streaming access to the array formats the data sets ship in: .npy (also inside .npz) and NORB matrices.

Readers yield a few rows at a time, so converting a 13 GB array never holds more than one chunk in memory.
"""
import contextlib
import gzip
import struct
import zipfile

import numpy as np

CHUNK_BYTES = 32 << 20

# NORB binary matrix format: magic number -> element type (https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/).
NORB_DTYPES = {
    0x1E3D4C55: np.dtype(np.uint8),
    0x1E3D4C56: np.dtype("<i2"),
    0x1E3D4C54: np.dtype("<i4"),
    0x1E3D4C51: np.dtype("<f4"),
    0x1E3D4C53: np.dtype("<f8"),
}


def read_npy_header(f):
    """Reads a .npy header from a stream; returns (shape, dtype) and leaves `f` at the first data byte."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError("unsupported .npy format version {}".format(version))
    if fortran_order and len(shape) > 1:
        raise ValueError("Fortran-ordered .npy arrays are not supported")
    if dtype.hasobject:
        raise ValueError(".npy array of Python objects where numbers were expected")
    return tuple(int(s) for s in shape), dtype


def write_npy_header(f, shape, dtype):
    """Writes the header of a C-ordered .npy array; the data follows at `f.tell()`."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": tuple(int(s) for s in shape)}
    np.lib.format.write_array_header_1_0(f, header)


@contextlib.contextmanager
def open_npz_member(path, name):
    """Opens array `name` of an .npz file as a stream: yields (file object at its first data byte, shape, dtype)."""
    with zipfile.ZipFile(path) as archive:
        member = name + ".npy"
        if member not in archive.namelist():
            raise KeyError("{} holds no array '{}' (it holds {})".format(
                path, name, ", ".join(sorted(n[:-4] for n in archive.namelist()))))
        with archive.open(member) as f:
            shape, dtype = read_npy_header(f)
            yield f, shape, dtype


def npz_member_shape(path, name):
    """(shape, dtype) of array `name` of an .npz file, read from its header alone."""
    with open_npz_member(path, name) as (_, shape, dtype):
        return shape, dtype


def stored_npz_member_offset(path, name):
    """File offset of array `name`'s first data byte if the .npz stores it uncompressed (np.savez), else None.

    Such an array can be read in place, with no converted copy.
    """
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name + ".npy")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            return None
    with open(path, "rb") as raw:
        raw.seek(info.header_offset)
        local_header = raw.read(30)
        signature, = struct.unpack("<I", local_header[:4])
        name_length, extra_length = struct.unpack("<HH", local_header[26:30])
        if signature != 0x04034B50:
            raise ValueError("{}: damaged zip local header".format(path))
        raw.seek(info.header_offset + 30 + name_length + extra_length)
        read_npy_header(raw)
        return raw.tell()


def read_exactly(f, buffer):
    """Fills `buffer` (a writable memoryview) from stream `f`; raises EOFError if the stream ends first."""
    filled = 0
    while filled < len(buffer):
        n = f.readinto(buffer[filled:])
        if not n:
            raise EOFError("the file ends {} bytes early".format(len(buffer) - filled))
        filled += n


def iter_row_chunks(f, shape, dtype, chunk_bytes=CHUNK_BYTES):
    """Yields (first_row, rows) chunks of an array of `shape` stored row-major in stream `f` from its position.

    The yielded array is a view of one reused buffer: consume it before asking for the next chunk.
    """
    dtype = np.dtype(dtype)
    row_shape = tuple(shape[1:])
    row_bytes = int(np.prod(row_shape, dtype=np.int64)) * dtype.itemsize
    rows_per_chunk = max(1, chunk_bytes // max(row_bytes, 1))
    buffer = np.empty(rows_per_chunk * row_bytes, dtype=np.uint8)
    for start in range(0, shape[0], rows_per_chunk):
        count = min(rows_per_chunk, shape[0] - start)
        read_exactly(f, memoryview(buffer)[:count * row_bytes])
        yield start, buffer[:count * row_bytes].view(dtype).reshape((count,) + row_shape)


def read_norb_header(f):
    """Reads a NORB binary matrix header; returns (shape, dtype) and leaves `f` at the first data byte."""
    magic, ndim = struct.unpack("<ii", f.read(8))
    if magic not in NORB_DTYPES:
        raise ValueError("not a NORB binary matrix (magic number {:#x})".format(magic))
    # The header always holds at least 3 dimensions; only the first `ndim` are used.
    dims = struct.unpack("<{}i".format(max(3, ndim)), f.read(4 * max(3, ndim)))
    return tuple(dims[:ndim]), NORB_DTYPES[magic]


def write_norb_header(f, shape, dtype):
    """Writes a NORB binary matrix header for an array of `shape` and `dtype`."""
    magic = {d: m for m, d in NORB_DTYPES.items()}[np.dtype(dtype).newbyteorder("<")]
    dims = list(shape) + [1] * max(0, 3 - len(shape))
    f.write(struct.pack("<ii{}i".format(len(dims)), magic, len(shape), *dims))


@contextlib.contextmanager
def open_norb_matrix(path):
    """Opens a NORB binary matrix (gzipped if the name ends in .gz): yields (stream at the data, shape, dtype)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        shape, dtype = read_norb_header(f)
        yield f, shape, dtype


def read_norb_matrix(path):
    """Reads a whole (small) NORB binary matrix into an array."""
    with open_norb_matrix(path) as (f, shape, dtype):
        count = int(np.prod(shape, dtype=np.int64))
        data = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype)
    if data.size != count:
        raise ValueError("{}: the NORB matrix ends early ({} of {} values)".format(path, data.size, count))
    return data.reshape(shape)
