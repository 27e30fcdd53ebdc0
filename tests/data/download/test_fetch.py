import hashlib
import os

import pytest

from dlib_torch.data.download import fetch

DATA = bytes(range(256)) * 4000  # 1 MB


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _fetch(server, tmp_path, **kwargs):
    kwargs.setdefault("expected_sha256", _sha(DATA))
    return fetch.fetch(server.url("f.bin"), str(tmp_path / "out" / "f.bin"), retry_wait=0.01, progress=False,
                       log=lambda message: None, **kwargs)


def test_download_lands_verified_at_its_path(http_server, tmp_path):
    http_server.files["f.bin"] = DATA
    assert _fetch(http_server, tmp_path, expected_size=len(DATA)) == _sha(DATA)
    assert (tmp_path / "out" / "f.bin").read_bytes() == DATA
    assert sorted(os.listdir(tmp_path / "out")) == [".dtl_download.lock", "f.bin"]  # no temporary file left


def test_a_dropped_connection_is_resumed_with_a_range_request(http_server, tmp_path):
    http_server.files["f.bin"] = DATA
    http_server.drop_after["f.bin"] = 300000
    _fetch(http_server, tmp_path)
    assert (tmp_path / "out" / "f.bin").read_bytes() == DATA
    (first, range_1, _), (second, range_2, if_range) = http_server.requests
    assert range_1 is None and range_2 == "bytes=300000-" and if_range.startswith('"')


def test_an_interrupted_run_is_resumed_by_the_next(http_server, tmp_path):
    http_server.files["f.bin"] = DATA
    http_server.drop_after["f.bin"] = 500000
    with pytest.raises(fetch.DownloadError, match=r"closed at byte 500000 of 1024000 \(gave up after 0 retries; "
                                                  r"rerun to resume from byte 500000\)"):
        _fetch(http_server, tmp_path, retries=0)
    assert not (tmp_path / "out" / "f.bin").exists()
    assert (tmp_path / "out" / ".dtl_partial.f.bin").stat().st_size == 500000
    _fetch(http_server, tmp_path, retries=0)
    assert (tmp_path / "out" / "f.bin").read_bytes() == DATA
    assert http_server.requests[-1][1] == "bytes=500000-"


def test_a_file_changed_on_the_server_restarts_instead_of_mixing_versions(http_server, tmp_path):
    http_server.files["f.bin"] = DATA
    http_server.drop_after["f.bin"] = 500000
    with pytest.raises(fetch.DownloadError):
        _fetch(http_server, tmp_path, retries=0, expected_sha256=None)
    new = DATA[::-1]
    http_server.files["f.bin"] = new  # the If-Range validator no longer matches: the server sends it whole
    assert _fetch(http_server, tmp_path, expected_sha256=None) == _sha(new)
    assert (tmp_path / "out" / "f.bin").read_bytes() == new


def test_a_corrupted_file_never_lands_at_its_path(http_server, tmp_path):
    corrupted = bytearray(DATA)
    corrupted[1000] ^= 1
    http_server.files["f.bin"] = bytes(corrupted)
    with pytest.raises(fetch.DownloadError) as info:
        _fetch(http_server, tmp_path)
    assert str(info.value) == "SHA-256 mismatch for {}: expected {}, got {}; the download was deleted".format(
        http_server.url("f.bin"), _sha(DATA), _sha(bytes(corrupted)))
    assert os.listdir(tmp_path / "out") == [".dtl_download.lock"]


def test_a_wrong_size_is_rejected_before_downloading(http_server, tmp_path):
    http_server.files["f.bin"] = DATA
    with pytest.raises(fetch.DownloadError, match="serves 1024000 bytes but the published file has 1000"):
        _fetch(http_server, tmp_path, expected_size=1000)
    assert os.listdir(tmp_path / "out") == [".dtl_download.lock"]


def test_http_errors_are_one_line_and_only_transient_ones_are_retried(http_server, tmp_path):
    with pytest.raises(fetch.DownloadError) as info:
        _fetch(http_server, tmp_path)
    assert str(info.value) == "HTTP 404 Not Found for {}".format(http_server.url("f.bin"))
    assert len(http_server.requests) == 1
    http_server.files["f.bin"] = DATA
    http_server.fail_next["f.bin"] = 503
    _fetch(http_server, tmp_path)
    assert [r[0] for r in http_server.requests[1:]] == ["f.bin", "f.bin"]


def test_network_failures_name_the_url(tmp_path):
    url = "http://127.0.0.1:9/f.bin"  # the discard port: nothing listens
    with pytest.raises(fetch.DownloadError, match=r"network error for http://127.0.0.1:9/f.bin: .*refused.* "
                                                  r"\(gave up after 1 retries"):
        fetch.fetch(url, str(tmp_path / "f.bin"), retries=1, retry_wait=0.01, progress=False, log=lambda m: None)


def test_a_download_that_does_not_fit_on_the_disk_is_refused(http_server, tmp_path, monkeypatch):
    import collections
    import shutil
    http_server.files["f.bin"] = DATA
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10 ** 9, 10 ** 9 - 5000, 5000))
    with pytest.raises(fetch.UserError, match=r"no space left for {}: it needs 1.0 MB, .*out has 5.0 kB free".format(
            http_server.url("f.bin"))):
        _fetch(http_server, tmp_path)
    assert not (tmp_path / "out" / "f.bin").exists()
