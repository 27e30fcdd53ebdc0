import json
import os
import pickle

import numpy as np
import pytest

from dlib_torch.data.ground_truth import image_cache
from dlib_torch.utils.errors import UserError


def _write_npy(path, array):
    with image_cache.NpyWriter(str(path), array.shape) as writer:
        writer.write(0, array)
    return writer.offset


def test_rows_are_read_in_any_order_with_repeats(tmp_path):
    array = np.random.RandomState(0).randint(0, 256, (20, 4, 5, 3)).astype(np.uint8)
    offset = _write_npy(tmp_path / "a.npy", array)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), array)  # a valid .npy file
    rows = image_cache.ImageRows(str(tmp_path / "a.npy"), offset, 20, (4, 5, 3))
    np.testing.assert_array_equal(rows.read([19, 0, 7, 7]), array[[19, 0, 7, 7]])
    assert rows.read([]).shape == (0, 4, 5, 3)
    with pytest.raises(IndexError):
        rows.read([20])
    copy = pickle.loads(pickle.dumps(rows))  # e.g. sent to a worker process: it opens its own descriptor
    np.testing.assert_array_equal(copy.read([3]), array[[3]])


def test_bit_packed_rows_unpack_to_binary_images(tmp_path):
    binary = (np.random.RandomState(0).rand(10, 6, 10) > 0.5).astype(np.uint8)
    offset = _write_npy(tmp_path / "b.npy", np.packbits(binary, axis=-1))
    rows = image_cache.ImageRows(str(tmp_path / "b.npy"), offset, 10, (6, 10), bit_packed=True)
    assert rows.row_bytes == 12
    np.testing.assert_array_equal(rows.read([2, 9]), binary[[2, 9]])


def test_a_truncated_cache_is_reported(tmp_path):
    offset = _write_npy(tmp_path / "c.npy", np.zeros((10, 8), np.uint8))
    with pytest.raises(UserError, match="is truncated"):
        image_cache.ImageRows(str(tmp_path / "c.npy"), offset, 11, (8,))


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    with pytest.raises(RuntimeError):
        with image_cache.NpyWriter(str(tmp_path / "d.npy"), (10, 8)) as writer:
            writer.write(0, np.zeros((5, 8), np.uint8))
            raise RuntimeError("conversion failed")
    assert os.listdir(tmp_path) == []
    with pytest.raises(IOError, match="expected"):
        with image_cache.NpyWriter(str(tmp_path / "d.npy"), (10, 8)) as writer:
            writer.write(0, np.zeros((5, 8), np.uint8))  # half the rows only
    assert os.listdir(tmp_path) == []


def test_not_enough_space_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match=r"no space left for .*big.npy: it needs 1000000000.0 GB, .* free"):
        image_cache.NpyWriter(str(tmp_path / "big.npy"), (10 ** 9, 10 ** 9))


def test_ensure_builds_once_and_again_when_the_source_changes(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"version 1")
    builds = []

    def build():
        content = np.frombuffer(source.read_bytes(), np.uint8)[None]
        name = "images{}.npy".format(len(builds))
        builds.append(name)
        offset = _write_npy(tmp_path / name, content)
        return {"images": {"file": name, "offset": offset, "num_rows": 1, "row_shape": [content.shape[1]]}}

    index_path = image_cache.index_path_for(str(tmp_path), "thing")
    index = image_cache.ensure(index_path, [str(source)], build, "thing")
    assert image_cache.ensure(index_path, [str(source)], build, "thing") == index and len(builds) == 1
    assert json.load(open(index_path))["sources"] == {"source.bin": [9, os.stat(source).st_mtime_ns]}
    source.write_bytes(b"version 2!")
    index = image_cache.ensure(index_path, [str(source)], build, "thing")
    assert len(builds) == 2 and not (tmp_path / "images0.npy").exists()  # the superseded copy is removed
    assert image_cache.open_images(index_path, index).read([0]).tobytes() == b"version 2!"
    (tmp_path / "images1.npy").unlink()  # a deleted cache is rebuilt too
    image_cache.ensure(index_path, [str(source)], build, "thing")
    assert len(builds) == 3


def test_require_grid_names_both_grids(tmp_path):
    image_cache.require_grid({"factor_sizes": [2, 3]}, [2, 3], "f", "d")
    with pytest.raises(UserError, match=r"f holds a factor grid of \[2, 3\] but data set 'd' expects \[4, 3\]"):
        image_cache.require_grid({"factor_sizes": [2, 3]}, [4, 3], "f", "d")
