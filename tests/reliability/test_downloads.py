"""Downloads from a real HTTP server on 127.0.0.1 that misbehaves: responses without a length that end early,
servers without ranges, and files damaged after they landed. The size of every file is recorded and checked."""
import os
import shutil
import subprocess
import sys

import pytest

from dlib_torch.data.download import fetch
from dlib_torch.data.download import manifest

DTL_DOWNLOAD = os.path.join(os.path.dirname(sys.executable), "dtl_download")
DATA = bytes(range(256)) * 4000  # 1 MB


def dtl_download(*args):
    return subprocess.run([DTL_DOWNLOAD, "--noprogress", "--retry_wait=0.01"] + list(args), capture_output=True,
                          text=True, timeout=120)


def _fetch(server, tmp_path, **kwargs):
    return fetch.fetch(server.url("f.bin"), str(tmp_path / "f.bin"), retry_wait=0.01, progress=False,
                       log=lambda message: None, **kwargs)


def test_an_early_close_without_a_length_is_resumed_not_accepted(http_server, tmp_path):
    http_server.files["f.bin"] = DATA
    http_server.no_length.add("f.bin")
    http_server.drop_after["f.bin"] = 300000  # the connection closes cleanly: only the length could tell
    _fetch(http_server, tmp_path, retries=0)
    assert (tmp_path / "f.bin").read_bytes() == DATA
    # The second request asks for the bytes after the close; the server's 206 gives the rest and the length.
    assert [r[1] for r in http_server.requests] == [None, "bytes=300000-"]


def test_a_whole_response_without_a_length_is_confirmed_by_a_range_request(http_server, tmp_path):
    http_server.files["f.bin"] = DATA
    http_server.no_length.add("f.bin")
    _fetch(http_server, tmp_path, retries=0)
    assert (tmp_path / "f.bin").read_bytes() == DATA
    assert [r[1] for r in http_server.requests] == [None, "bytes={}-".format(len(DATA))]  # answered 416 */N


def test_without_lengths_or_ranges_two_whole_transfers_must_agree(http_server, tmp_path):
    http_server.files["f.bin"] = DATA
    http_server.no_length.add("f.bin")
    http_server.no_ranges.add("f.bin")
    http_server.drop_after["f.bin"] = 500000
    _fetch(http_server, tmp_path, retries=0)
    assert (tmp_path / "f.bin").read_bytes() == DATA
    assert len(http_server.requests) == 3  # cut short, whole, whole again


def test_a_published_size_catches_an_early_close_without_a_length(http_server, tmp_path):
    http_server.files["f.bin"] = DATA
    http_server.no_length.add("f.bin")
    http_server.no_ranges.add("f.bin")
    http_server.drop_after["f.bin"] = 500000
    with pytest.raises(fetch.DownloadError, match=r"closed at byte 500000 of 1024000 \(gave up after 0 retries"):
        _fetch(http_server, tmp_path, retries=0, expected_size=len(DATA))
    assert not (tmp_path / "f.bin").exists()


def test_dtl_download_resumes_an_early_close_and_records_the_size(http_server, small_sources, tmp_path):
    whole = small_sources["files"]["mpi3d_toy.npz"]
    http_server.files["mpi3d_toy.npz"] = whole
    http_server.no_length.add("mpi3d_toy.npz")
    http_server.drop_after["mpi3d_toy.npz"] = len(whole) // 3
    data_dir = tmp_path / "root"
    result = dtl_download("--dataset=mpi3d_toy", "--data_dir=" + str(data_dir), "--mirror=" + http_server.base_url)
    assert result.returncode == 0, result.stderr
    assert "without saying the file's length; asking for any bytes after it" in result.stdout
    path = data_dir / "mpi3d_toy" / "mpi3d_toy.npz"
    assert path.read_bytes() == whole
    assert manifest.read_sizes(str(data_dir)) == {"mpi3d_toy/mpi3d_toy.npz": len(whole)}
    text = (data_dir / "dtl_download.sha256").read_text()
    assert text.startswith("#size {}  mpi3d_toy/mpi3d_toy.npz\n".format(len(whole)))
    if shutil.which("sha256sum"):  # the manifest still checks with sha256sum, the size lines being comments
        check = subprocess.run(["sha256sum", "--check", "--strict", "dtl_download.sha256"], cwd=data_dir,
                               capture_output=True, text=True)
        assert check.returncode == 0 and check.stdout == "mpi3d_toy/mpi3d_toy.npz: OK\n", check.stderr
    result = dtl_download("--dataset=mpi3d_toy", "--data_dir=" + str(data_dir), "--verify")
    assert result.returncode == 0 and "mpi3d_toy: verified mpi3d_toy/mpi3d_toy.npz" in result.stdout, result.stderr


def test_a_file_that_lost_bytes_is_refused_by_its_recorded_size(http_server, small_sources, tmp_path):
    whole = small_sources["files"]["mpi3d_toy.npz"]
    http_server.files["mpi3d_toy.npz"] = whole
    data_dir = tmp_path / "root"
    args = ["--dataset=mpi3d_toy", "--data_dir=" + str(data_dir), "--mirror=" + http_server.base_url]
    assert dtl_download(*args).returncode == 0
    path = data_dir / "mpi3d_toy" / "mpi3d_toy.npz"
    path.write_bytes(whole[:-10])  # e.g. a copy to another disk that stopped early
    manifest_text = (data_dir / "dtl_download.sha256").read_text()
    for extra in [], ["--verify"]:
        result = dtl_download(*args, *extra)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines()[-1] == (
            "dtl_download: error: {} holds {} bytes but its download had {}; the file is damaged or incomplete: "
            "replace it with `dtl_download --dataset=mpi3d_toy --data_dir={} --force`".format(
                path, len(whole) - 10, len(whole), data_dir))
        assert path.read_bytes() == whole[:-10]
        assert (data_dir / "dtl_download.sha256").read_text() == manifest_text
    http_server.requests.clear()
    result = dtl_download(*args, "--force")
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == whole and len(http_server.requests) == 1


def test_a_content_length_that_is_not_a_number_is_ignored_not_a_traceback(http_server, tmp_path):
    http_server.files["f.bin"] = DATA
    http_server.bad_length.add("f.bin")
    messages = []
    digest = fetch.fetch(http_server.url("f.bin"), str(tmp_path / "f.bin"), retry_wait=0.01, progress=False,
                         log=messages.append)
    assert (tmp_path / "f.bin").read_bytes() == DATA and len(digest) == 64
