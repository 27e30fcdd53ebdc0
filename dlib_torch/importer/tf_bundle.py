"""Reads TensorFlow's variables (the TensorBundle format) with numpy alone: no TensorFlow at run time.

TF 1.x checkpoints (`tf_checkpoint/model.ckpt-<step>.index` + `.data-*`) and the variables of a TF-Hub
module (`tfhub/variables/variables.index` + `.data-*`) are both a TensorBundle (TF's
`tensorflow/core/util/tensor_bundle/tensor_bundle.{h,cc,proto}`):

* `<prefix>.index` is an SSTable, LevelDB's immutable table (`tensorflow/core/lib/io/table_format.txt`,
  `format.{h,cc}`, `block.cc`): data blocks of prefix-compressed (key, value) entries with restart points,
  an index block mapping the last key of each data block to its BlockHandle (varint64 offset, varint64
  size), and a 48-byte footer (metaindex and index handles padded to 40 bytes, then the magic number
  0xdb4775248b80fb57). Each block is followed by a 1-byte compression type (TF writes 0, none) and a masked
  CRC32C of the block and that byte.
* The entry with the empty key holds a `BundleHeaderProto` (num_shards = 1, endianness = 2); every other
  key is a tensor name whose value is a `BundleEntryProto` (dtype = 1, shape = 2, shard_id = 3, offset = 4,
  size = 5, crc32c = 6 (fixed32, masked CRC32C of the bytes), slices = 7).
* `<prefix>.data-<shard:05d>-of-<num_shards:05d>` holds each numeric tensor's raw little-endian bytes at
  [offset, offset + size), row-major in TF's layout (so a conv kernel is [kh, kw, in, out]).

Only the few protobuf fields above are decoded, by hand (wire types varint, 64-bit, length-delimited,
32-bit). Strings, partitioned (sliced) variables and big-endian bundles are refused by name.
"""
import os
import struct

import numpy as np

from dlib_torch.utils.errors import UserError

TABLE_MAGIC = 0xdb4775248b80fb57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5

# tensorflow/core/framework/types.proto: the numeric DataType values a model's variables use.
DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
          10: np.bool_, 17: np.uint16, 19: np.float16, 22: np.uint32, 23: np.uint64}
DT_STRING = 7
MAX_TENSOR_BYTES = 1 << 31  # larger than any variable of the reference's networks (a few MB)


class BundleError(UserError):
    """A damaged or unsupported TensorBundle; the message names the file and what is wrong."""


class TensorBundle:
    """The tensors of one TensorBundle, read lazily: `names()`, `shape(name)`, `dtype(name)`, `read(name)`.

    `read_file(name)` returns the bytes of `<prefix>.index` or `<prefix>.data-00000-of-00001`, so a bundle
    inside a ZIP is read without unpacking it; `open_bundle` reads one on disk.
    """

    def __init__(self, prefix, read_file, verify_checksums=True, label=None):
        self.prefix = prefix
        self.label = label or prefix  # names the bundle in errors
        self._read_file = read_file
        self._verify = verify_checksums
        self._data = {}
        index_name = prefix + ".index"
        entries = read_table(read_file(index_name), self.label + ".index")
        if b"" not in entries:
            raise BundleError("{}.index has no bundle header; it is not a TensorBundle index".format(self.label))
        header = _parse_message(entries.pop(b""), self.label + ".index")
        self.num_shards = _int(header.get(1, [1])[-1])
        if _int(header.get(2, [0])[-1]) != 0:
            raise BundleError("{} is a big-endian bundle; only little-endian bundles are supported".format(
                self.label))
        self._entries = {key.decode("utf-8"): value for key, value in entries.items()}
        self._parsed = {}

    def names(self):
        """Every tensor name in the bundle, sorted."""
        return sorted(self._entries)

    def __contains__(self, name):
        return name in self._entries

    def shape(self, name):
        return self._entry(name)["shape"]

    def dtype(self, name):
        return self._entry(name)["dtype"]

    def read(self, name):
        """The tensor `name` as a numpy array (its size and CRC32C checked)."""
        entry = self._entry(name)
        if entry["dtype_code"] == DT_STRING or entry["dtype"] is None:
            raise BundleError("{}: tensor {!r} has TF dtype {}, which this reader does not decode".format(
                self.label, name, entry["dtype_code"]))
        if entry["sliced"]:
            raise BundleError("{}: tensor {!r} is a partitioned variable, which this reader does not "
                              "decode".format(self.label, name))
        start, size = entry["offset"], entry["size"]
        expected = np.dtype(entry["dtype"]).itemsize
        for dim in entry["shape"]:
            expected *= dim  # Python integers: a hostile shape cannot overflow
        if any(dim < 0 for dim in entry["shape"]) or expected > MAX_TENSOR_BYTES:
            raise BundleError("{}: tensor {!r} declares shape {} ({} bytes), which no model of the reference has; "
                              "the bundle is damaged".format(self.label, name, list(entry["shape"]), expected))
        data = self._shard(entry["shard_id"])
        if size != expected:
            raise BundleError("{}: tensor {!r} holds {} bytes but its shape {} needs {}".format(
                self.label, name, size, list(entry["shape"]), expected))
        if start + size > len(data):
            raise BundleError("{}: tensor {!r} lies past the end of its data file (truncated: {} of {} bytes)"
                              .format(self.label, name, len(data), start + size))
        raw = data[start:start + size]
        if self._verify and entry["crc32c"] is not None and unmask_crc(entry["crc32c"]) != crc32c(raw):
            raise BundleError("{}: tensor {!r} fails its CRC32C check; the data file is damaged".format(
                self.label, name))
        return np.frombuffer(raw, dtype=np.dtype(entry["dtype"]).newbyteorder("<")).reshape(
            entry["shape"]).astype(entry["dtype"])

    def _entry(self, name):
        if name not in self._entries:
            raise KeyError(name)
        if name not in self._parsed:
            fields = _parse_message(self._entries[name], self.label + ".index")
            dtype_code = _int(fields.get(1, [0])[-1])
            shape = []
            for dim in _parse_message(fields.get(2, [b""])[-1], self.label).get(2, []):
                shape.append(_int(_parse_message(dim, self.label).get(1, [0])[-1]))
            self._parsed[name] = {
                "dtype_code": dtype_code, "dtype": DTYPES.get(dtype_code), "shape": tuple(shape),
                "shard_id": _int(fields.get(3, [0])[-1]), "offset": _int(fields.get(4, [0])[-1]),
                "size": _int(fields.get(5, [0])[-1]), "crc32c": fields.get(6, [None])[-1],
                "sliced": bool(fields.get(7))}
        return self._parsed[name]

    def _shard(self, shard_id):
        if shard_id not in self._data:
            name = "{}.data-{:05d}-of-{:05d}".format(self.prefix, shard_id, self.num_shards)
            self._data[shard_id] = self._read_file(name)
        return self._data[shard_id]


def open_bundle(prefix, verify_checksums=True):
    """The TensorBundle at `prefix` on disk (e.g. `.../variables/variables` or `.../model.ckpt-300000`)."""
    directory, base = os.path.split(prefix)

    def read_file(name):
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise BundleError("{} is missing; a TensorBundle needs its .index and .data-* files".format(
                path)) from None

    return TensorBundle(base, read_file, verify_checksums, label=prefix)


# --- SSTable (LevelDB table) --------------------------------------------------------------------------------

def read_table(data, name="table"):
    """Every (key, value) of an SSTable's data blocks, as {bytes: bytes}."""
    if len(data) < FOOTER_SIZE:
        raise BundleError("{} is {} bytes, shorter than an SSTable footer; the file is truncated".format(
            name, len(data)))
    footer = data[-FOOTER_SIZE:]
    if struct.unpack("<Q", footer[-8:])[0] != TABLE_MAGIC:
        raise BundleError("{} does not end with the SSTable magic number; the file is truncated or not a "
                          "TensorBundle index".format(name))
    position = 0
    _, position = _block_handle(footer, position, name)  # metaindex (empty in TF's bundles)
    (index_offset, index_size), _ = _block_handle(footer, position, name)
    entries = {}
    for _, handle in _block_entries(_block(data, index_offset, index_size, name), name):
        (offset, size), _ = _block_handle(handle, 0, name)
        for key, value in _block_entries(_block(data, offset, size, name), name):
            entries[key] = value
    return entries


def _block_handle(data, position, name):
    offset, position = _varint(data, position, name)
    size, position = _varint(data, position, name)
    return (offset, size), position


def _block(data, offset, size, name):
    end = offset + size
    if end + BLOCK_TRAILER_SIZE > len(data):
        raise BundleError("{}: a block lies past the end of the file; the file is truncated".format(name))
    contents = data[offset:end]
    compression, stored_crc = data[end], struct.unpack("<I", data[end + 1:end + 5])[0]
    if unmask_crc(stored_crc) != crc32c(data[offset:end + 1]):
        raise BundleError("{}: a block fails its CRC32C check; the file is damaged".format(name))
    if compression != 0:
        raise BundleError("{}: block compression type {} is not supported (TF writes uncompressed "
                          "bundles)".format(name, compression))
    return contents


def _block_entries(block, name):
    """Yields the (key, value) entries of one block, undoing the prefix compression."""
    if len(block) < 4:
        raise BundleError("{}: a block is too short".format(name))
    num_restarts = struct.unpack("<I", block[-4:])[0]
    limit = len(block) - 4 * (num_restarts + 1)
    if limit < 0:
        raise BundleError("{}: a block has a bad restart array".format(name))
    position, key = 0, b""
    while position < limit:
        shared, position = _varint(block, position, name)
        non_shared, position = _varint(block, position, name)
        value_length, position = _varint(block, position, name)
        if shared > len(key) or position + non_shared + value_length > limit:
            raise BundleError("{}: a block entry is corrupt".format(name))
        key = key[:shared] + block[position:position + non_shared]
        position += non_shared
        yield key, block[position:position + value_length]
        position += value_length


# --- protobuf wire format -----------------------------------------------------------------------------------

def _varint(data, position, name):
    result, shift = 0, 0
    while True:
        if position >= len(data) or shift > 63:
            raise BundleError("{}: a varint runs past its data; the file is damaged".format(name))
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def _parse_message(data, name):
    """{field number: [values]} of a protobuf message: ints for varints/fixed, bytes for length-delimited."""
    fields, position = {}, 0
    while position < len(data):
        tag, position = _varint(data, position, name)
        number, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            value, position = _varint(data, position, name)
        elif wire_type == 1:
            value, position = struct.unpack("<Q", data[position:position + 8])[0], position + 8
        elif wire_type == 2:
            length, position = _varint(data, position, name)
            value, position = bytes(data[position:position + length]), position + length
        elif wire_type == 5:
            value, position = struct.unpack("<I", data[position:position + 4])[0], position + 4
        else:
            raise BundleError("{}: protobuf wire type {} is not expected; the file is damaged".format(
                name, wire_type))
        if position > len(data):
            raise BundleError("{}: a protobuf field runs past its data; the file is damaged".format(name))
        fields.setdefault(number, []).append(value)
    return fields


def _int(value):
    """A varint as a signed int64 (protobuf encodes negative int32/int64 as 10-byte two's complement)."""
    return value - (1 << 64) if value >= 1 << 63 else value


# --- CRC32C (Castagnoli), vectorised with numpy --------------------------------------------------------------

_POLY = 0x82F63B78  # reflected Castagnoli polynomial
_TABLE = np.zeros(256, dtype=np.uint32)
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE[_i] = _c
_MASK_DELTA = 0xA282EAD8
_LANE_BYTES = 4096  # below this many bytes per lane, run one lane


def unmask_crc(masked):
    """Undoes the rotation + constant that LevelDB and TF apply to stored CRCs."""
    rotated = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF


def crc32c(data):
    """CRC32C of `data` (bytes). Long inputs are cut into lanes hashed side by side, then combined (CRCs are
    linear over GF(2): the state after A + B is the state after A pushed through |B| zero bytes, XOR B's)."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    lanes = max(1, min(4096, len(buffer) // _LANE_BYTES))
    lane_length = len(buffer) // lanes if lanes > 1 else 0
    state = np.uint32(0xFFFFFFFF)
    if lanes > 1:
        columns = np.ascontiguousarray(buffer[:lanes * lane_length].reshape(lanes, lane_length).T)
        lane_states = np.zeros(lanes, dtype=np.uint32)
        for column in columns:
            lane_states = _TABLE[(lane_states ^ column) & 0xFF] ^ (lane_states >> np.uint32(8))
        shift = _zeros_operator(lane_length)
        for lane_state in lane_states:
            state = np.uint32(_apply(shift, int(state)) ^ int(lane_state))
    state = int(state)
    for byte in buffer[lanes * lane_length:].tolist():
        state = int(_TABLE[(state ^ byte) & 0xFF]) ^ (state >> 8)
    return state ^ 0xFFFFFFFF


def _zeros_operator(num_bytes):
    """The 32x32 GF(2) matrix (as 32 column ints) that advances a CRC state over `num_bytes` zero bytes."""
    one_byte = np.zeros((32, 32), dtype=np.int64)
    for bit in range(32):
        state = 1 << bit
        state = int(_TABLE[state & 0xFF]) ^ (state >> 8)
        one_byte[:, bit] = [(state >> row) & 1 for row in range(32)]
    result, power = np.eye(32, dtype=np.int64), one_byte
    while num_bytes:
        if num_bytes & 1:
            result = (power @ result) % 2
        power = (power @ power) % 2
        num_bytes >>= 1
    return [int(sum(int(result[row, bit]) << row for row in range(32))) for bit in range(32)]


def _apply(columns, state):
    out = 0
    for bit in range(32):
        if state >> bit & 1:
            out ^= columns[bit]
    return out
