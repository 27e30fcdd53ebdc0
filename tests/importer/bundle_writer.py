"""A minimal TensorBundle writer (test code only): an uncompressed SSTable index with one data block, and the
data file, in the layout tf_bundle.py reads. Lets tests build bundles TensorFlow would never write (hostile
shapes) without TensorFlow."""
import struct

import numpy as np

from dlib_torch.importer import tf_bundle

_MAGIC = struct.pack("<Q", tf_bundle.TABLE_MAGIC)
_DTYPE_CODES = {np.dtype(v): k for k, v in tf_bundle.DTYPES.items()}


def _varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number, wire_type, payload):
    return _varint(number << 3 | wire_type) + payload


def _mask(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def _block(entries):
    body = b"".join(_varint(0) + _varint(len(k)) + _varint(len(v)) + k + v for k, v in entries)
    return body + struct.pack("<I", 0) + struct.pack("<I", 1)


def _with_trailer(block):
    return block + b"\x00" + struct.pack("<I", _mask(tf_bundle.crc32c(block + b"\x00")))


def entry(dtype_code, shape, offset, size, crc=None):
    """A BundleEntryProto's bytes (shape dims may be anything a protobuf varint holds)."""
    shape_proto = b"".join(_field(2, 2, _varint(len(d)) + d) for d in (_field(1, 0, _varint(s)) for s in shape))
    message = _field(1, 0, _varint(dtype_code)) + _field(2, 2, _varint(len(shape_proto)) + shape_proto)
    message += _field(4, 0, _varint(offset)) + _field(5, 0, _varint(size))
    if crc is not None:
        message += _field(6, 5, struct.pack("<I", crc))
    return message


def write_bundle(prefix, tensors, declared_shapes=None):
    """Writes `<prefix>.index` and `<prefix>.data-00000-of-00001` for {name: array}; `declared_shapes` overrides
    the shape recorded for some names (the data stays the array's)."""
    declared_shapes = declared_shapes or {}
    data, entries = b"", [(b"", _field(1, 0, _varint(1)))]
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        raw = array.tobytes()
        crc = _mask(tf_bundle.crc32c(raw))
        entries.append((name.encode(), entry(_DTYPE_CODES[array.dtype], declared_shapes.get(name, array.shape),
                                             len(data), len(raw), crc)))
        data += raw
    data_block = _with_trailer(_block(entries))
    index_block = _with_trailer(_block([(entries[-1][0], _varint(0) + _varint(len(data_block) - 5))]))
    meta_block = _with_trailer(_block([]))
    meta_offset = len(data_block)
    index_offset = meta_offset + len(meta_block)
    footer = (_varint(meta_offset) + _varint(len(meta_block) - 5) + _varint(index_offset) +
              _varint(len(index_block) - 5))
    footer = footer.ljust(40, b"\x00") + _MAGIC
    with open(prefix + ".index", "wb") as f:
        f.write(data_block + meta_block + index_block + footer)
    with open(prefix + ".data-00000-of-00001", "wb") as f:
        f.write(data)
