import gzip
import io

import numpy as np
import pytest

from dlib_torch.data.ground_truth import array_files


def test_npz_members_stream_in_chunks_compressed_or_not(tmp_path):
    images = np.random.RandomState(0).randint(0, 256, (50, 8, 8, 3)).astype(np.uint8)
    np.savez_compressed(tmp_path / "c.npz", images=images, other=np.arange(3))
    np.savez(tmp_path / "s.npz", other=np.arange(3), images=images)
    for name in ["c.npz", "s.npz"]:
        with array_files.open_npz_member(str(tmp_path / name), "images") as (f, shape, dtype):
            assert shape == (50, 8, 8, 3) and dtype == np.uint8
            chunks = list((start, rows.copy()) for start, rows in array_files.iter_row_chunks(f, shape, dtype, 1000))
        assert [start for start, _ in chunks] == list(range(0, 50, 5))  # 1000 bytes hold 5 rows of 192
        np.testing.assert_array_equal(np.concatenate([rows for _, rows in chunks]), images)
    assert array_files.stored_npz_member_offset(str(tmp_path / "c.npz"), "images") is None
    offset = array_files.stored_npz_member_offset(str(tmp_path / "s.npz"), "images")
    raw = np.fromfile(tmp_path / "s.npz", dtype=np.uint8, count=images.size, offset=offset)
    np.testing.assert_array_equal(raw.reshape(images.shape), images)
    with pytest.raises(KeyError, match="holds no array 'imgs' \\(it holds images, other\\)"):
        array_files.npz_member_shape(str(tmp_path / "c.npz"), "imgs")


def test_a_truncated_stream_is_an_error():
    f = io.BytesIO(bytes(100))
    with pytest.raises(EOFError, match="ends 28 bytes early"):
        list(array_files.iter_row_chunks(f, (4, 32), np.uint8))


@pytest.mark.parametrize("shape,dtype", [((7,), np.int32), ((7, 4), np.int32), ((3, 2, 5, 5), np.uint8)])
def test_norb_matrices_round_trip(tmp_path, shape, dtype):
    array = np.random.RandomState(0).randint(0, 100, shape).astype(dtype)
    path = str(tmp_path / "m.mat.gz")
    with gzip.open(path, "wb") as f:
        array_files.write_norb_header(f, shape, dtype)
        f.write(array.tobytes())
    with gzip.open(path, "rb") as f:
        header = f.read(8 + 4 * max(3, len(shape)))
    assert np.frombuffer(header, "<i4")[1] == len(shape) and len(header) == 8 + 4 * max(3, len(shape))
    np.testing.assert_array_equal(array_files.read_norb_matrix(path), array)


def test_norb_magic_numbers_name_the_element_type():
    f = io.BytesIO(np.array([0x1E3D4C55, 1, 4, 1, 1], "<i4").tobytes() + bytes(4))
    assert array_files.read_norb_header(f) == ((4,), np.uint8)
    with pytest.raises(ValueError, match="not a NORB binary matrix"):
        array_files.read_norb_header(io.BytesIO(np.array([7, 1, 4, 1, 1], "<i4").tobytes()))
