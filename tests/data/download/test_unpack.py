import gzip
import io
import os
import tarfile

import pytest

from dlib_torch.data.download import unpack
from dlib_torch.utils.errors import UserError


def _tarball(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def test_only_the_cars_mat_files_are_extracted(tmp_path):
    _tarball(tmp_path / "t.tar.gz", [("data/cars/car_001_mesh.mat", b"one"), ("data/cars/notes.txt", b"x"),
                                     ("data/sprites/a.mat", b"x"), ("data/cars/link.mat", None),
                                     ("data/cars/../../escape.mat", b"x"), ("data/cars/car_002_mesh.mat", b"two")])
    digests = unpack.extract_cars(str(tmp_path / "t.tar.gz"), str(tmp_path / "root" / "cars"))
    assert sorted(os.listdir(tmp_path / "root" / "cars")) == ["car_001_mesh.mat", "car_002_mesh.mat"]
    assert (tmp_path / "root" / "cars" / "car_002_mesh.mat").read_bytes() == b"two"
    assert sorted(digests) == ["car_001_mesh.mat", "car_002_mesh.mat"]
    assert sorted(os.listdir(tmp_path / "root")) == ["cars"] and not (tmp_path / "escape.mat").exists()


def test_a_tarball_without_cars_leaves_nothing(tmp_path):
    _tarball(tmp_path / "t.tar.gz", [("data/sprites/a.mat", b"x")])
    os.makedirs(tmp_path / "root")
    with pytest.raises(UserError, match="holds no data/cars/\\*.mat files"):
        unpack.extract_cars(str(tmp_path / "t.tar.gz"), str(tmp_path / "root" / "cars"))
    assert os.listdir(tmp_path / "root") == []


def test_gunzip_streams_into_place(tmp_path):
    (tmp_path / "m.mat.gz").write_bytes(gzip.compress(b"matrix" * 1000))
    digest = unpack.gunzip(str(tmp_path / "m.mat.gz"), str(tmp_path / "m.mat"))
    assert (tmp_path / "m.mat").read_bytes() == b"matrix" * 1000
    assert len(digest) == 64 and sorted(os.listdir(tmp_path)) == ["m.mat", "m.mat.gz"]
