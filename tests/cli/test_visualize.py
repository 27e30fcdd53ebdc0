"""Tests of the `dtl_visualize` command (dlib_torch/cli/visualize.py), run as real subprocesses."""
import os
import subprocess
import sys

from PIL import Image

TEST_GIN = os.path.join(os.path.dirname(__file__), "..", "visualize", "visualize_test.gin")


def _command(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def _run(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1")  # tiny models: one thread is fastest, and tests run in parallel
    return subprocess.run([_command(args[0])] + list(args[1:]), capture_output=True, text=True, timeout=300,
                          env=env)


def test_visualizes_a_trained_model_with_animation_flags(tmp_path):
    model_dir, output_dir = str(tmp_path / "model"), str(tmp_path / "visualizations")
    trained = _run("dtl_train", "--model_dir=" + model_dir, "--gin_config=" + TEST_GIN,
                   "--gin_bindings=model.training_steps = 5")
    assert trained.returncode == 0, trained.stderr
    run = _run("dtl_visualize", "--model_dir=" + model_dir, "--output_dir=" + output_dir, "--num_animations=2",
               "--num_frames=3", "--fps=5", "--num_points_irs=100")
    assert run.returncode == 0, run.stderr
    gifs = sorted(os.listdir(os.path.join(output_dir, "animated_traversals")))
    assert len(gifs) == 10 and "minmax_interval_cycle1.gif" in gifs
    gif = Image.open(os.path.join(output_dir, "animated_traversals", "std_gaussian_cycle1.gif"))
    assert gif.n_frames == 3 and gif.info["duration"] == 200

    again = _run("dtl_visualize", "--model_dir=" + model_dir, "--output_dir=" + output_dir)
    assert again.returncode == 2
    assert again.stderr.strip() == ("dtl_visualize: error: {} already holds finished 'visualize' results; pass "
                                    "--overwrite to replace them".format(output_dir))


def test_missing_or_unfinished_model_is_a_one_line_error(tmp_path):
    missing = _run("dtl_visualize", "--model_dir=" + str(tmp_path / "none"), "--output_dir=" + str(tmp_path / "o"))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [missing.stderr.strip()]
    assert "does not exist; train it first: dtl_train --model_dir=" in missing.stderr
    unfinished = tmp_path / "unfinished"
    (unfinished / "checkpoints").mkdir(parents=True)
    run = _run("dtl_visualize", "--model_dir=" + str(unfinished), "--output_dir=" + str(tmp_path / "o"))
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]
    assert "has no finished 'train' step" in run.stderr
    assert not os.path.exists(tmp_path / "o")
