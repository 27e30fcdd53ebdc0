"""The numpy TensorBundle reader on a checkpoint that TensorFlow itself wrote (tests/fixtures/tf_conv_model)."""
import os
import shutil
import sys

import numpy as np
import pytest

from dlib_torch.importer import tf_bundle

sys.path.insert(0, os.path.dirname(__file__))

FIXTURE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "tf_conv_model")
PREFIX = os.path.join(FIXTURE_DIR, "model.ckpt-0")


def test_crc32c_matches_the_standard_check_values():
    assert tf_bundle.crc32c(b"123456789") == 0xE3069283  # RFC 3720's check value
    assert tf_bundle.crc32c(b"") == 0
    data = np.random.RandomState(0).bytes(100003)  # long enough for the lanes, with a remainder
    state = 0xFFFFFFFF
    for byte in data:
        state = int(tf_bundle._TABLE[(state ^ byte) & 0xFF]) ^ (state >> 8)
    assert tf_bundle.crc32c(data) == state ^ 0xFFFFFFFF


def test_reads_every_variable_of_the_reference_networks():
    bundle = tf_bundle.open_bundle(PREFIX)
    names = bundle.names()
    assert "encoder/e1/kernel" in names and "decoder/conv2d_transpose_3/kernel" in names
    assert bundle.shape("encoder/e1/kernel") == (4, 4, 1, 32)
    assert bundle.shape("encoder/e5/kernel") == (1024, 256)
    assert bundle.shape("decoder/conv2d_transpose/kernel") == (4, 4, 64, 64)
    assert bundle.dtype("encoder/means/bias") is np.float32
    kernel = bundle.read("encoder/e1/kernel")
    assert kernel.dtype == np.float32 and kernel.shape == (4, 4, 1, 32)
    limit = np.sqrt(6.0 / (4 * 4 * 1 + 4 * 4 * 32))  # Glorot uniform, as tf.layers initialised it
    assert 0 < np.abs(kernel).max() <= limit
    assert np.abs(bundle.read("encoder/means/bias")).max() > 0  # the fixture script randomised the biases


def _copy(tmp_path):
    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copy(PREFIX + suffix, str(tmp_path / ("model.ckpt-0" + suffix)))
    return str(tmp_path / "model.ckpt-0")


def test_a_damaged_data_file_is_named(tmp_path):
    prefix = _copy(tmp_path)
    bundle = tf_bundle.open_bundle(prefix)
    offset = bundle._entry("encoder/e5/kernel")["offset"]
    with open(prefix + ".data-00000-of-00001", "r+b") as f:
        f.seek(offset + 100)
        byte = f.read(1)
        f.seek(offset + 100)
        f.write(bytes([byte[0] ^ 0x40]))
    with pytest.raises(tf_bundle.BundleError, match=r"'encoder/e5/kernel' fails its CRC32C check"):
        tf_bundle.open_bundle(prefix).read("encoder/e5/kernel")
    assert tf_bundle.open_bundle(prefix).read("encoder/e1/kernel").shape == (4, 4, 1, 32)  # the rest is fine


def test_truncated_files_are_named(tmp_path):
    prefix = _copy(tmp_path)
    with open(prefix + ".data-00000-of-00001", "r+b") as f:
        f.truncate(1000)
    with pytest.raises(tf_bundle.BundleError, match="past the end of its data file"):
        tf_bundle.open_bundle(prefix).read("decoder/dense_1/kernel")
    with open(prefix + ".index", "r+b") as f:
        f.truncate(os.path.getsize(prefix + ".index") - 3)
    with pytest.raises(tf_bundle.BundleError, match="truncated"):
        tf_bundle.open_bundle(prefix)
    os.unlink(prefix + ".index")
    with pytest.raises(tf_bundle.BundleError, match=r"model.ckpt-0.index is missing"):
        tf_bundle.open_bundle(prefix)


def test_a_written_bundle_reads_back_and_a_hostile_shape_is_refused(tmp_path):
    import bundle_writer  # noqa: E402  (tests/importer/bundle_writer.py)
    prefix = str(tmp_path / "variables")
    kernel = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    bundle_writer.write_bundle(prefix, {"a/kernel": kernel, "b/bias": np.ones(3, np.float32)},
                               declared_shapes={"b/bias": (1 << 40, 1 << 40)})
    bundle = tf_bundle.open_bundle(prefix)
    np.testing.assert_array_equal(bundle.read("a/kernel"), kernel)
    # A shape whose size overflows int64 (2^80 elements) is named, not wrapped around or allocated.
    with pytest.raises(tf_bundle.BundleError, match=r"'b/bias' declares shape \[1099511627776, 1099511627776\]"):
        bundle.read("b/bias")
