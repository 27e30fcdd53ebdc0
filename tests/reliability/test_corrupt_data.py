"""Damaged data files, as real commands meet them: one line naming the file and `dtl_download ... --force`,
exit 2, nothing recorded for a file that does not load, and every file left byte for byte as it was."""
import os
import subprocess
import sys
import zipfile

import numpy as np

from dlib_torch.data.ground_truth import synthetic_files

BIN = os.path.dirname(sys.executable)
DSPRITES_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
TRAIN_GIN = os.path.join(os.path.dirname(__file__), "..", "methods", "unsupervised", "train_test.gin")
NORB_KEYS = ["smallnorb_{}_{}".format(split, kind) for split in ("training", "testing")
             for kind in ("dat", "cat", "info")]


def run(command, *args, data_dir, cwd=None):
    return subprocess.run([os.path.join(BIN, command)] + list(args), capture_output=True, text=True, timeout=300,
                          cwd=cwd, env=dict(os.environ, DISENTANGLEMENT_LIB_DATA=str(data_dir), OMP_NUM_THREADS="1"))


def snapshot(directory):
    """{relative path: bytes} of every file under `directory`."""
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, directory)] = f.read()
    return files


def assert_one_line(result, *parts):
    """Exit 2 and the error in one line, the last (a log line about the conversion may come before it)."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and result.stderr.strip().splitlines()[-1] == errors[0], result.stderr
    for part in parts:
        assert part in errors[0], errors[0]
    return errors[0]


def garbage_dsprites(data_dir):
    path = data_dir / "dsprites" / DSPRITES_NAME
    path.parent.mkdir(parents=True)
    path.write_bytes(b"<html>not the file</html>" * 100)
    return path


def test_training_on_a_garbage_npz_names_the_file_and_the_way_out(tmp_path):
    data_dir = tmp_path / "data"
    path = garbage_dsprites(data_dir)
    before = snapshot(data_dir)
    result = run("dtl_train", "--model_dir=" + str(tmp_path / "model"), "--gin_config=" + TRAIN_GIN,
                 "--gin_bindings=dataset.name = 'dsprites_full'", data_dir=data_dir)
    assert_one_line(result, "dtl_train: error: cannot read {} (".format(path),
                    "the file is damaged or incomplete: replace it with `dtl_download --dataset=dsprites_full "
                    "--data_dir={} --force`".format(data_dir))
    after = snapshot(data_dir)
    assert {name: after.get(name) for name in before} == before


def test_verify_of_a_garbage_npz_refuses_it_and_records_nothing(tmp_path):
    data_dir = tmp_path / "data"
    path = garbage_dsprites(data_dir)
    result = run("dtl_download", "--dataset=dsprites_full", "--verify", "--data_dir=" + str(data_dir),
                 data_dir=data_dir)
    assert_one_line(result, "dtl_download: error: cannot read {} (BadZipFile: File is not a zip file)".format(path),
                    "replace it with `dtl_download --dataset=dsprites_full --data_dir={} --force`".format(data_dir))
    assert not (data_dir / "dtl_download.sha256").exists()
    assert path.read_bytes() == b"<html>not the file</html>" * 100


def test_verify_finds_a_bit_flip_inside_a_compressed_member(tmp_path):
    # The zip still opens and lists its arrays: only the member's CRC shows the damage.
    data_dir = tmp_path / "data"
    path = data_dir / "mpi3d_toy" / "mpi3d_toy.npz"
    path.parent.mkdir(parents=True)
    images = np.random.RandomState(0).randint(0, 256, (24, 64, 64, 3)).astype(np.uint8)
    synthetic_files.write_mpi3d_npz(str(path), len(images), lambda a, b: images[a:b], compress=True)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("images.npy")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data = bytearray(path.read_bytes())
    data[start + info.compress_size // 2] ^= 0x10
    path.write_bytes(bytes(data))
    result = run("dtl_download", "--dataset=mpi3d_toy", "--verify", "--data_dir=" + str(data_dir), data_dir=data_dir)
    assert_one_line(result, "dtl_download: error: cannot read {} (".format(path), "--dataset=mpi3d_toy",
                    "--force`")
    assert not (data_dir / "dtl_download.sha256").exists()
    assert path.read_bytes() == bytes(data)


def test_a_truncated_npz_in_training_names_the_file(tmp_path, small_sources):
    data_dir = tmp_path / "data"
    path = data_dir / "mpi3d_toy" / "mpi3d_toy.npz"
    path.parent.mkdir(parents=True)
    whole = small_sources["files"]["mpi3d_toy.npz"]
    path.write_bytes(whole[:len(whole) // 2])
    result = run("dtl_visualize_dataset", "--name=mpi3d_toy", "--path=" + str(tmp_path / "pictures"),
                 data_dir=data_dir)
    assert_one_line(result, "dtl_visualize_dataset: error: cannot read {} (".format(path),
                    "replace it with `dtl_download --dataset=mpi3d_toy --data_dir={} --force`".format(data_dir))
    assert path.read_bytes() == whole[:len(whole) // 2]


def test_force_replaces_a_damaged_file_which_then_loads(tmp_path, http_server, small_sources):
    http_server.files[DSPRITES_NAME] = small_sources["files"][DSPRITES_NAME]
    data_dir = tmp_path / "data"
    path = garbage_dsprites(data_dir)
    args = ["--dataset=dsprites_full", "--data_dir=" + str(data_dir), "--noprogress",
            "--mirror=" + http_server.base_url]
    result = run("dtl_download", *args, data_dir=data_dir)  # in place: not fetched, and its build names it
    assert_one_line(result, "cannot read {}".format(path), "--force`")
    assert http_server.requests == []
    result = run("dtl_download", *args, "--force", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == small_sources["files"][DSPRITES_NAME]
    result = run("dtl_download", *args, "--verify", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "dsprites: verified dsprites/" + DSPRITES_NAME in result.stdout


def test_a_non_gzip_smallnorb_download_is_named(tmp_path, http_server, small_sources):
    http_server.files.update(small_sources["files"])
    bad = "smallnorb-5x46789x9x18x6x2x96x96-training-cat.mat.gz"
    http_server.files[bad] = b"<html>moved</html>"
    data_dir = tmp_path / "data"
    result = run("dtl_download", "--dataset=smallnorb", "--data_dir=" + str(data_dir), "--noprogress",
                 "--mirror=" + http_server.base_url, *["--sha256={}=".format(key) for key in NORB_KEYS],
                 data_dir=data_dir)
    assert_one_line(result, "dtl_download: error: {} is not a complete gzip file (BadGzipFile: ".format(
        data_dir / "small_norb" / bad), "delete it and rerun dtl_download --dataset=smallnorb")
    assert not (data_dir / "small_norb" / bad[:-len(".gz")]).exists()


def test_a_download_that_does_not_load_is_deleted_and_never_recorded(tmp_path, http_server):
    http_server.files[DSPRITES_NAME] = b"<html>Rate limit exceeded</html>"  # a host's page instead of the file
    data_dir = tmp_path / "data"
    result = run("dtl_download", "--dataset=dsprites_full", "--data_dir=" + str(data_dir), "--noprogress",
                 "--mirror=" + http_server.base_url, data_dir=data_dir)
    assert_one_line(result, "dtl_download: error: the file {} served does not load as dsprites/{} (BadZipFile: "
                    "File is not a zip file); it was deleted: check the URL (--url, --mirror)".format(
                        http_server.url(DSPRITES_NAME), DSPRITES_NAME))
    assert not (data_dir / "dsprites" / DSPRITES_NAME).exists()
    assert not (data_dir / "dtl_download.sha256").exists()
