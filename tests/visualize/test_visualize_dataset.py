import os
import subprocess
import sys

import numpy as np
from PIL import Image


def _command(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def test_visualize_dataset_command_writes_stills_and_animations(tmp_path):
    run = subprocess.run([_command("dtl_visualize_dataset"), "--name=dsprites_procedural", "--path", str(tmp_path)],
                         check=True, capture_output=True, text=True, timeout=120)
    assert run.stdout.startswith("dtl_visualize_dataset: pictures in {} (".format(tmp_path / "dsprites_procedural"))
    out = tmp_path / "dsprites_procedural"
    assert sorted(os.listdir(out)) == sorted(
        ["variations_of_factor%d.png" % i for i in range(5)] + ["animation%d.gif" % j for j in range(5)] +
        [".dtl_manifest.jsonl", "results"])
    still = np.asarray(Image.open(out / "variations_of_factor3.png").convert("RGB"))
    assert still.shape == (256, 256, 3)
    assert still.min() == 0 and still.max() == 255  # black background, white sprites
    gif = Image.open(out / "animation0.gif")
    assert gif.n_frames == 20 and gif.info["duration"] == 100  # 20 frames at 10 fps
    frames = []
    for i in range(gif.n_frames):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("RGB"), dtype=np.int16))
    assert np.abs(frames[0] - frames[10]).max() > 0  # the factors move
    label = frames[0][10:24, 10:74]  # the strip above the first panel names its factor ("shape")
    assert label.min() < 100 and label.max() == 255


def test_visualize_dataset_unknown_name_is_one_line_error(tmp_path):
    run = subprocess.run([_command("dtl_visualize_dataset"), "--name=nope", "--path", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]
    assert "unknown dataset 'nope'" in run.stderr


def test_correlated_sampling_adds_the_joint_histogram_of_each_pair(tmp_path):
    bindings = ["factor_sampling.mode = 'correlated'", "factor_sampling.pairs = [('posX', 'scale')]",
                "factor_sampling.strengths = [0.2]"]
    run = subprocess.run([_command("dtl_visualize_dataset"), "--name=dsprites_procedural", "--path", str(tmp_path)]
                         + ["--gin_bindings=" + b for b in bindings], check=True, capture_output=True, text=True,
                         timeout=120)
    assert "pictures in" in run.stdout
    picture = np.asarray(Image.open(tmp_path / "dsprites_procedural" / "factor_joint_3_1.png").convert("RGB"))
    assert picture.shape[0] > 300 and picture.shape[1] > 600
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 50  # two coloured histograms, not a blank page


def test_a_bad_factor_sampling_binding_is_one_line_error(tmp_path):
    run = subprocess.run([_command("dtl_visualize_dataset"), "--name=dsprites_procedural", "--path", str(tmp_path),
                          "--gin_bindings=factor_sampling.mode = 'correlated'",
                          "--gin_bindings=factor_sampling.pairs = [('posX', 'size')]",
                          "--gin_bindings=factor_sampling.strengths = [0.2]"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]
    assert "factor_sampling.pairs: unknown factor 'size'" in run.stderr


def test_finished_pictures_of_another_factor_sampling_are_refused_not_skipped(tmp_path):
    base = [_command("dtl_visualize_dataset"), "--name=dsprites_procedural", "--path", str(tmp_path)]
    correlated = ["--gin_bindings=factor_sampling.mode = 'correlated'",
                  "--gin_bindings=factor_sampling.pairs = [('posX', 'scale')]",
                  "--gin_bindings=factor_sampling.strengths = [0.2]"]
    subprocess.run(base + correlated, check=True, capture_output=True, text=True, timeout=120)
    folder = tmp_path / "dsprites_procedural"
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    again = subprocess.run(base + correlated, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    other = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert other.returncode == 2
    lines = other.stderr.strip().splitlines()
    assert "factor sampling 'correlated: (posX, scale) sigma=0.2 +', not 'independent'" in lines[-1]
    assert "Traceback" not in other.stderr
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
