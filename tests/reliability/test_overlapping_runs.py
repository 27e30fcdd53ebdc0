"""Two runs on one output directory (a duplicated or requeued SLURM task) never race: the second exits at once
with status 75 and one line naming the holder's host and pid, or waits for it with --wait_for_lock."""
import os
import socket
import subprocess
import time

from reliability_tools import ENV, TRAIN_GIN, command, one_line_error, run

# Long enough (many seconds) for a second process to meet the first one's lock.
SLOW = ["--gin_bindings=model.training_steps = 400", "--gin_bindings=model.batch_size = 16",
        "--gin_bindings=encoder.encoder_fn = @conv_encoder", "--gin_bindings=decoder.decoder_fn = @deconv_decoder"]


def _start_training(model_dir, *extra):
    process = subprocess.Popen(command("dtl_train", "--model_dir=" + str(model_dir), "--gin_config=" + TRAIN_GIN,
                                       *SLOW, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=ENV)
    lock = os.path.join(str(model_dir), ".dtl_lock")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if os.path.exists(lock) and os.path.getsize(lock) > 0:
            return process
        time.sleep(0.02)
    raise AssertionError("the first run never took its lock: " + process.stderr.read())


def test_a_second_run_exits_75_naming_the_holder(tmp_path):
    model_dir = tmp_path / "model"
    first = _start_training(model_dir)
    try:
        second = run("dtl_train", "--model_dir=" + str(model_dir), "--gin_config=" + TRAIN_GIN, *SLOW)
        assert second.returncode == 75, second.stderr
        line = one_line_error(second, "dtl_train")
        assert "is in use by another run" in line
        assert "pid {}".format(first.pid) in line and "host {}".format(socket.gethostname()) in line
        assert "--wait_for_lock" in line
    finally:
        first.terminate()
        first.communicate(timeout=120)
    assert first.returncode == 75  # preempted by SIGTERM: it saved a checkpoint, untouched by the second run


def test_a_waiting_run_finds_the_work_done(tmp_path):
    model_dir = tmp_path / "model"
    first = _start_training(model_dir, "--gin_bindings=model.training_steps = 60")
    second = subprocess.run(command("dtl_train", "--model_dir=" + str(model_dir), "--gin_config=" + TRAIN_GIN,
                                    *SLOW, "--gin_bindings=model.training_steps = 60", "--wait_for_lock"),
                            capture_output=True, text=True, timeout=300, env=ENV)
    first.communicate(timeout=300)
    assert first.returncode == 0
    assert second.returncode == 0, second.stderr
    assert os.path.exists(model_dir / "results" / "aggregate" / "train.json")
    assert not os.path.exists(model_dir / ".dtl_lock")  # a normal release leaves no lock file behind


def test_two_reproduce_runs_on_one_directory(tmp_path):
    study = os.path.join(os.path.dirname(TRAIN_GIN), "..")
    output = tmp_path / "out"
    first = subprocess.Popen(command("dtl_reproduce", "--study=" + study, "--model_num=0",
                                     "--output_directory=" + str(output)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.monotonic() + 120
    while not os.path.exists(output / ".dtl_lock") and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    second = run("dtl_reproduce", "--study=" + study, "--model_num=0", "--output_directory=" + str(output))
    first_out, first_err = first.communicate(timeout=600)
    assert first.returncode == 0, first_err
    assert second.returncode == 75, second.stderr
    assert "is in use by another run" in second.stderr and "Traceback" not in second.stderr
    again = run("dtl_reproduce", "--study=" + study, "--model_num=0", "--output_directory=" + str(output))
    assert again.returncode == 0 and "skipped" in again.stdout
