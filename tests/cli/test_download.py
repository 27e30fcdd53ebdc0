import hashlib
import os
import subprocess
import sys

import numpy as np

from dlib_torch.data.ground_truth import dsprites
from dlib_torch.data.ground_truth import mpi3d
from dlib_torch.data.ground_truth import util

DSPRITES_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"


def _dtl_download(*args, env=None):
    command = [os.path.join(os.path.dirname(sys.executable), "dtl_download")] + list(args)
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=dict(os.environ, **(env or {})))


def test_download_then_load_then_rerun_downloads_nothing(http_server, small_sources, tmp_path):
    http_server.files["elsewhere/dsprites.npz"] = small_sources["files"][DSPRITES_NAME]
    http_server.files["mpi3d_real.npz"] = small_sources["files"]["mpi3d_real.npz"]
    http_server.drop_after["mpi3d_real.npz"] = 400000  # the connection breaks mid-file
    data_dir = str(tmp_path / "root")
    args = ["--dataset=dsprites_full,mpi3d_real", "--data_dir=" + data_dir, "--retry_wait=0.01",
            "--url=dsprites=" + http_server.url("elsewhere/dsprites.npz")]
    env = {"DTL_DOWNLOAD_URL_MPI3D_REAL": http_server.url("mpi3d_real.npz")}
    result = _dtl_download(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert "closed at byte 400000" in result.stdout and "retrying" in result.stdout
    assert "B/s" in result.stderr  # the progress bar shows the rate
    assert [r[1] for r in http_server.requests if r[0] == "mpi3d_real.npz"] == [None, "bytes=400000-"]
    with open(os.path.join(data_dir, "mpi3d_real", "mpi3d_real.npz"), "rb") as f:
        assert f.read() == small_sources["files"]["mpi3d_real.npz"]  # resumed to the same bytes

    info = small_sources["mpi3d"]
    data = mpi3d.MPI3D("mpi3d_real", factor_sizes=info["grid"], data_dir=data_dir)
    factors = data.sample_factors(10, np.random.RandomState(0))
    np.testing.assert_array_equal(data.sample_observations_from_factors(factors, None) * 255,
                                  info["images"][util.factors_to_rows(factors, info["grid"])])
    info = small_sources["dsprites"]
    data = dsprites.DSprites(factor_sizes=info["grid"], data_dir=data_dir)
    observation = data.sample_observations_from_factors([[0, 0, 0, 1, 2]], np.random.RandomState(0))[0, ..., 0]
    (row,) = util.factors_to_rows([[0, 0, 0, 0, 1, 2]], info["grid"])
    np.testing.assert_array_equal(observation, info["images"][row])

    http_server.requests.clear()
    result = _dtl_download(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert http_server.requests == [] and "(0 file(s) downloaded)" in result.stdout


def test_a_corrupted_download_is_one_line_and_never_lands(http_server, small_sources, tmp_path):
    good = small_sources["files"][DSPRITES_NAME]
    corrupted = bytearray(good)
    corrupted[len(good) // 2] ^= 0xFF
    http_server.files[DSPRITES_NAME] = bytes(corrupted)
    digest = hashlib.sha256(good).hexdigest()
    result = _dtl_download("--dataset=dsprites_full", "--data_dir=" + str(tmp_path), "--noprogress",
                           "--mirror=" + http_server.base_url, "--sha256=dsprites=" + digest)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "dtl_download: error: SHA-256 mismatch for {}: expected {}, got {}; the download was deleted".format(
            http_server.url(DSPRITES_NAME), digest, hashlib.sha256(bytes(corrupted)).hexdigest()))
    assert not os.path.exists(os.path.join(tmp_path, "dsprites", DSPRITES_NAME))
    assert [n for n in os.listdir(os.path.join(tmp_path, "dsprites")) if not n.endswith(".lock")] == []


def test_a_404_is_one_line_naming_the_url(http_server, tmp_path):
    result = _dtl_download("--dataset=scream_dsprites_procedural", "--data_dir=" + str(tmp_path),
                           "--mirror=" + http_server.base_url + "/moved", "--retries=3")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == "dtl_download: error: HTTP 404 Not Found for {}".format(
        http_server.url("moved/The_Scream.jpg"))
    assert len(http_server.requests) == 1  # a 404 is not retried


def test_an_unknown_data_set_lists_the_valid_names(tmp_path):
    result = _dtl_download("--dataset=dsprites", "--data_dir=" + str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "dtl_download: error: unknown dataset 'dsprites'; valid names: all, abstract_dsprites, cars3d, "
        "color_dsprites, dsprites_full, dsprites_noshape, mpi3d_real, mpi3d_realistic, mpi3d_toy, noisy_dsprites, "
        "scream_dsprites, scream_dsprites_procedural, shapes3d, smallnorb")


def test_the_data_root_defaults_to_the_environment(http_server, small_sources, tmp_path):
    http_server.files["The_Scream.jpg"] = small_sources["files"]["The_Scream.jpg"]
    result = _dtl_download("--dataset=scream_dsprites_procedural", "--noprogress",
                           env={"DISENTANGLEMENT_LIB_DATA": str(tmp_path / "env_root"),
                                "DTL_DOWNLOAD_MIRROR": http_server.base_url})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "env_root" / "scream" / "scream.jpg").read_bytes() == small_sources["files"]["The_Scream.jpg"]


def test_concurrent_runs_download_each_file_once(http_server, small_sources, tmp_path):
    http_server.files.update(small_sources["files"])
    http_server.delay = 0.3  # keeps the first run's download open while the second starts
    command = [os.path.join(os.path.dirname(sys.executable), "dtl_download"), "--dataset=scream_dsprites",
               "--data_dir=" + str(tmp_path), "--noprogress", "--mirror=" + http_server.base_url]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sorted(r[0] for r in http_server.requests) == ["The_Scream.jpg", DSPRITES_NAME]
    assert (tmp_path / "scream" / "scream.jpg").read_bytes() == small_sources["files"]["The_Scream.jpg"]


def test_an_unwritable_data_root_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    result = _dtl_download("--dataset=dsprites_full", "--data_dir=" + str(tmp_path / "file" / "root"))
    assert result.returncode == 2
    assert result.stderr.strip() == "dtl_download: error: {}: Not a directory".format(tmp_path / "file" / "root")
