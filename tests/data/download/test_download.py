import gzip
import hashlib
import os

import numpy as np
import pytest
from PIL import Image

from dlib_torch.data.download import download
from dlib_torch.data.download import manifest
from dlib_torch.data.download import sources
from dlib_torch.data.ground_truth import cars3d
from dlib_torch.data.ground_truth import dsprites
from dlib_torch.data.ground_truth import mpi3d
from dlib_torch.data.ground_truth import norb
from dlib_torch.data.ground_truth import shapes3d
from dlib_torch.data.ground_truth import synthetic_files
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import UserError


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _serve(server, small_sources):
    server.files.update(small_sources["files"])
    # Our small files are not the published ones: name their digests where the table publishes some.
    return {f.key: _sha(small_sources["files"][f.url.rsplit("/", 1)[1]]) for f in sources.FILES if f.sha256}


def _download(server, small_sources, data_dir, names="all", **kwargs):
    return download.download(names, data_dir, mirror=server.base_url, sha256_overrides=_serve(server, small_sources),
                             retry_wait=0.01, progress=False, log=lambda message: None, **kwargs)


def _assert_rows(observations, expected):
    np.testing.assert_array_equal(observations, expected.astype(np.float32) / np.float32(255))


def test_every_data_set_downloads_and_loads_with_the_right_factor_order(http_server, small_sources, tmp_path):
    data_dir = str(tmp_path / "root")
    assert _download(http_server, small_sources, data_dir) == len(sources.FILES)
    rs = np.random.RandomState(0)

    info = small_sources["dsprites"]
    data = dsprites.DSprites(factor_sizes=info["grid"], data_dir=data_dir)
    factors = data.sample_factors(20, rs)
    rows = util.factors_to_rows(np.column_stack([np.zeros(20, np.int64), factors]), info["grid"])
    np.testing.assert_array_equal(data.sample_observations_from_factors(factors, rs)[..., 0], info["images"][rows])
    scream = np.asarray(Image.open(os.path.join(data_dir, "scream", "scream.jpg")))
    assert scream.shape == (300, 240, 3) and dsprites.load_scream(data_dir).shape == (274, 219, 3)

    info = small_sources["smallnorb"]
    data = norb.SmallNORB(factor_sizes=info["grid"], data_dir=data_dir)
    factors = data.sample_factors(10, rs)
    observations = data.sample_observations_from_factors(factors, np.random.RandomState(5))
    instances = np.random.RandomState(5).randint(info["grid"][1], size=10)
    for observation, latent, instance in zip(observations, factors, instances):
        (source,) = np.flatnonzero(np.all(info["features"] == np.insert(latent, 1, instance), axis=1))
        _assert_rows(observation[..., 0], norb.resize_image(info["images"][source, 0]))

    info = small_sources["cars3d"]
    data = cars3d.Cars3D(factor_sizes=info["grid"], data_dir=data_dir)
    factors = data.sample_factors(10, rs)
    for observation, (elevation, azimuth, car) in zip(data.sample_observations_from_factors(factors, rs), factors):
        _assert_rows(observation, info["views"][sorted(info["views"])[car]][:, :, :, azimuth, elevation])

    info = small_sources["mpi3d"]
    for mode in mpi3d.MODES:
        data = mpi3d.MPI3D(mode, factor_sizes=info["grid"], data_dir=data_dir)
        factors = data.sample_factors(10, rs)
        _assert_rows(data.sample_observations_from_factors(factors, rs),
                     info["images"][util.factors_to_rows(factors, info["grid"])])

    info = small_sources["shapes3d"]
    data = shapes3d.Shapes3D(factor_sizes=info["grid"], data_dir=data_dir)
    factors = data.sample_factors(10, rs)
    _assert_rows(data.sample_observations_from_factors(factors, rs),
                 info["images"][util.factors_to_rows(factors, info["grid"])])

    # The reference's layout; the compressed downloads are gone once unpacked, and every file is recorded.
    assert not os.path.exists(os.path.join(data_dir, "nips2015-analogy-data.tar.gz"))
    assert sorted(n for n in os.listdir(os.path.join(data_dir, "small_norb")) if not n.startswith(".")) == sorted(
        ["smallnorb-{}-{}.mat".format(c, k) for c in norb.CHUNKS for k in ("dat", "cat", "info")] +
        ["smallnorb.cache.json", "smallnorb.images.npy"])
    recorded = manifest.read(data_dir)
    assert recorded["cars/car_002_mesh.mat"] == manifest.sha256_of(os.path.join(data_dir, "cars", "car_002_mesh.mat"))
    assert recorded["mpi3d_real/mpi3d_real.npz"] == _sha(small_sources["files"]["mpi3d_real.npz"])
    assert len(recorded) == 3 + 6 + 3 + 3  # dsprites, scream, shapes3d; smallNORB; cars; MPI3D


def test_a_rerun_downloads_nothing_and_touches_nothing(http_server, small_sources, tmp_path):
    data_dir = str(tmp_path / "root")
    _download(http_server, small_sources, data_dir, names="dsprites_full,cars3d,smallnorb")
    stats = {p: os.stat(os.path.join(data_dir, p)).st_mtime_ns for p in manifest.read(data_dir)}
    http_server.requests.clear()
    assert _download(http_server, small_sources, data_dir, names="dsprites_full,cars3d,smallnorb") == 0
    assert http_server.requests == []
    assert {p: os.stat(os.path.join(data_dir, p)).st_mtime_ns for p in stats} == stats


def test_an_interrupted_unpacking_finishes_without_downloading(http_server, small_sources, tmp_path):
    data_dir = str(tmp_path / "root")
    _download(http_server, small_sources, data_dir, names="smallnorb")
    name = "smallnorb-5x46789x9x18x6x2x96x96-training-cat.mat"
    os.unlink(os.path.join(data_dir, "small_norb", name))
    with open(os.path.join(data_dir, "small_norb", name + ".gz"), "wb") as f:
        f.write(small_sources["files"][name + ".gz"])  # a verified download, not yet unpacked
    http_server.requests.clear()
    assert _download(http_server, small_sources, data_dir, names="smallnorb") == 0
    assert http_server.requests == []
    with open(os.path.join(data_dir, "small_norb", name), "rb") as f:
        assert f.read() == gzip.decompress(small_sources["files"][name + ".gz"])


def test_verify_checks_recorded_and_published_digests(http_server, small_sources, tmp_path):
    data_dir = str(tmp_path / "root")
    _download(http_server, small_sources, data_dir, names="mpi3d_toy")
    messages = []
    download.download("mpi3d_toy", data_dir, verify=True, log=messages.append)
    assert "mpi3d_toy: verified mpi3d_toy/mpi3d_toy.npz" in messages
    path = os.path.join(data_dir, "mpi3d_toy", "mpi3d_toy.npz")
    with open(path, "r+b") as f:
        f.seek(100)
        f.write(b"x")
    with pytest.raises(UserError, match=r"SHA-256 mismatch for .*mpi3d_toy.npz: expected {}, got {}; replace it with "
                                        r"`dtl_download --dataset=mpi3d_toy --data_dir=.* --force`".format(
            _sha(small_sources["files"]["mpi3d_toy.npz"]), manifest.sha256_of(path))):
        download.download("mpi3d_toy", data_dir, verify=True, log=lambda m: None)
    assert os.path.exists(path)  # never deleted by a check


def test_verify_records_the_first_digest_of_files_put_in_place_by_hand(tmp_path):
    data_dir = str(tmp_path / "root")
    os.makedirs(os.path.join(data_dir, "scream"))
    path = os.path.join(data_dir, "scream", "scream.jpg")
    synthetic_files.write_jpg(path, np.random.RandomState(0).randint(0, 256, (80, 90, 3)).astype(np.uint8))
    messages = []
    download.download("scream_dsprites_procedural", data_dir, verify=True, log=messages.append)
    assert "scream: recorded the SHA-256 of scream/scream.jpg" in messages
    assert manifest.read(data_dir) == {"scream/scream.jpg": manifest.sha256_of(path)}
    assert manifest.read_sizes(data_dir) == {"scream/scream.jpg": os.path.getsize(path)}


def test_verify_never_records_a_file_that_does_not_load(tmp_path):
    data_dir = str(tmp_path / "root")
    os.makedirs(os.path.join(data_dir, "scream"))
    with open(os.path.join(data_dir, "scream", "scream.jpg"), "wb") as f:
        f.write(b"a picture")
    with pytest.raises(util.DamagedDataError, match=r"cannot read .*scream.jpg \(UnidentifiedImageError: .*\); the "
                                                     r"file is damaged or incomplete: replace it with `dtl_download "
                                                     r"--dataset=scream_dsprites_procedural --data_dir=.* --force`"):
        download.download("scream_dsprites_procedural", data_dir, verify=True, log=lambda m: None)
    assert manifest.read(data_dir) == {}


def test_a_mirror_is_still_held_to_the_published_size_and_digest(http_server, small_sources, tmp_path):
    http_server.files.update(small_sources["files"])
    with pytest.raises(UserError, match="3dshapes.h5 serves {} bytes but the published file has 267573662".format(
            len(small_sources["files"]["3dshapes.h5"]))):
        download.download("shapes3d", str(tmp_path), mirror=http_server.base_url, progress=False, log=lambda m: None)
    assert not os.path.exists(tmp_path / "3dshapes" / "3dshapes.h5")


def test_a_truncated_file_in_place_is_reported(tmp_path):
    os.makedirs(tmp_path / "3dshapes")
    (tmp_path / "3dshapes" / "3dshapes.h5").write_bytes(b"short")
    with pytest.raises(UserError, match="holds 5 bytes but the published file has 267573662; the file is damaged or "
                                        "incomplete: replace it with `dtl_download --dataset=shapes3d "):
        download.download("shapes3d", str(tmp_path), log=lambda m: None)


def test_verify_accepts_every_data_set_as_downloaded(http_server, small_sources, tmp_path):
    # Every format's load check passes on good files (smallNORB matrices, cars .mat, npz, h5, jpg).
    data_dir = str(tmp_path / "root")
    _download(http_server, small_sources, data_dir)
    messages = []
    download.download("all", data_dir, sha256_overrides=_serve(http_server, small_sources), verify=True,
                      log=messages.append)
    verified = [m for m in messages if ": verified " in m]
    assert len(verified) == len(manifest.read(data_dir)) == 3 + 6 + 3 + 3
    assert set(manifest.read_sizes(data_dir)) == set(manifest.read(data_dir))


def test_force_replaces_only_the_data_sets_files_and_keeps_the_users(http_server, small_sources, tmp_path):
    data_dir = str(tmp_path / "root")
    _download(http_server, small_sources, data_dir, names="cars3d,smallnorb")
    mine = {os.path.join("cars", "NOTES.txt"): b"notes", os.path.join("cars", "my_renders", "a.png"): b"x",
            os.path.join("small_norb", ".notes.mat.tmp"): b"mine", ".cars.old": b"mine too",
            os.path.join("small_norb", ".smallnorb-5x46789x9x18x6x2x96x96-training-cat.mat.tmp"): b"looks temporary"}
    for relative, data in mine.items():
        os.makedirs(os.path.dirname(os.path.join(data_dir, relative)) or data_dir, exist_ok=True)
        with open(os.path.join(data_dir, relative), "wb") as f:
            f.write(data)
    _download(http_server, small_sources, data_dir, names="cars3d,smallnorb", force=True)
    for relative, data in mine.items():
        with open(os.path.join(data_dir, relative), "rb") as f:
            assert f.read() == data, relative
    assert not [n for n in os.listdir(os.path.join(data_dir, "cars")) if n.startswith(".dtl_")]


def test_an_archive_in_place_that_was_not_fetched_is_refused(http_server, small_sources, tmp_path):
    data_dir = str(tmp_path / "root")
    name = "smallnorb-5x46789x9x18x6x2x96x96-training-cat.mat"
    os.makedirs(os.path.join(data_dir, "small_norb"))
    with open(os.path.join(data_dir, "small_norb", name + ".gz"), "wb") as f:
        f.write(gzip.compress(b"not the published file"))
    with pytest.raises(UserError, match="is in place but is not a file dtl_download fetched and recorded"):
        _download(http_server, small_sources, data_dir, names="smallnorb")
