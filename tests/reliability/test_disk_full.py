"""A full disk or a read-only output is one line naming the path (exit 2); the previous checkpoint and records
stay intact. Uses real size-limited and read-only tmpfs mounts (CI runs as root; elsewhere these skip)."""
import os
import subprocess

import pytest
import torch

from reliability_tools import ENV, TRAIN_GIN, command, one_line_error, run

CHECKPOINT_EVERY_5 = ["--gin_bindings=model.training_steps = 20",
                      "--gin_bindings=training_runtime.checkpoint_every_steps = 5"]


def _mount_tmpfs(path, size_bytes):
    path.mkdir()
    completed = subprocess.run(["mount", "-t", "tmpfs", "-o", "size={}".format(size_bytes), "tmpfs", str(path)],
                               capture_output=True)
    return completed.returncode == 0


def _checkpoint_size(tmp_path):
    probe = tmp_path / "probe"
    assert run("dtl_train", "--model_dir=" + str(probe), "--gin_config=" + TRAIN_GIN,
               "--gin_bindings=model.training_steps = 1").returncode == 0
    return os.path.getsize(probe / "checkpoints" / "latest.pt")


@pytest.fixture
def small_disk(tmp_path):
    """A file system on which a model fits one checkpoint but not the temporary copy of the next one."""
    size = _checkpoint_size(tmp_path)
    mount_point = tmp_path / "disk"
    if not _mount_tmpfs(mount_point, int(size * 1.5) + 64 * 1024):
        pytest.skip("needs root to mount a size-limited tmpfs")
    yield str(mount_point)
    subprocess.run(["umount", str(mount_point)], check=True)


def test_no_space_left_keeps_the_previous_checkpoint(small_disk):
    model_dir = os.path.join(small_disk, "model")
    completed = subprocess.run(command("dtl_train", "--model_dir=" + model_dir, "--gin_config=" + TRAIN_GIN,
                                       *CHECKPOINT_EVERY_5), capture_output=True, text=True, env=ENV, timeout=300)
    assert completed.returncode == 2, completed.stderr
    line = one_line_error(completed, "dtl_train")
    checkpoint = os.path.join(model_dir, "checkpoints", "latest.pt")
    assert "No space left on device while writing {}".format(checkpoint) in line
    assert "run the same command again" in line
    state = torch.load(checkpoint, weights_only=True)  # the previous checkpoint is whole
    assert state["global_step"] == 5
    assert [name for name in os.listdir(os.path.dirname(checkpoint)) if name.endswith(".tmp")] == []


def test_a_read_only_output_is_one_line(tmp_path):
    mount_point = tmp_path / "ro"
    if not _mount_tmpfs(mount_point, 1 << 20):
        pytest.skip("needs root to mount a read-only file system (root ignores file permissions)")
    try:
        subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
        completed = run("dtl_train", "--model_dir=" + str(mount_point / "model"), "--gin_config=" + TRAIN_GIN)
        assert completed.returncode == 2, completed.stderr
        line = one_line_error(completed, "dtl_train")
        assert str(mount_point / "model") in line and "Read-only file system" in line
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)
