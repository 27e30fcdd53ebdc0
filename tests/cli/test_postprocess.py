"""Tests of dtl_postprocess (dlib_torch/cli/postprocess.py) as real subprocesses."""
import json
import os
import subprocess
import sys

DTL_POSTPROCESS = os.path.join(os.path.dirname(sys.executable), "dtl_postprocess")
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def _run(*arguments):
    return subprocess.run([DTL_POSTPROCESS] + list(arguments), capture_output=True, text=True, timeout=300, env=ENV)


def test_dtl_postprocess_writes_the_representation_and_its_records(tiny_model, tmp_path):
    config = tmp_path / "sampled.gin"
    config.write_text("postprocess.postprocess_fn = @sampled_representation\ndataset.name = \"auto\"\n"
                      "postprocess.random_seed = 0\n")
    output_dir = tmp_path / "postprocessed" / "sampled"
    completed = _run("--model_dir={}".format(tiny_model()), "--output_dir={}".format(output_dir),
                     "--gin_config={}".format(config), "--gin_bindings=postprocess.name = 'sampled'")
    assert completed.returncode == 0, completed.stderr
    assert (output_dir / "exported" / "representation.pt").exists()
    with open(output_dir / "results" / "aggregate" / "postprocess.json") as f:
        record = json.load(f)
    assert record["postprocess_config.postprocess.postprocess_fn"] == "@sampled_representation"
    assert record["postprocess_config.postprocess.name"] == "'sampled'"
    rerun = _run("--model_dir={}".format(tiny_model()), "--output_dir={}".format(output_dir),
                 "--gin_config={}".format(config))
    assert rerun.returncode == 2
    assert rerun.stderr.strip().splitlines()[-1].startswith("dtl_postprocess: error: ")
    assert "--overwrite" in rerun.stderr


def test_dtl_postprocess_names_a_missing_model_in_one_line(tmp_path):
    completed = _run("--model_dir={}".format(tmp_path / "nowhere"), "--output_dir={}".format(tmp_path / "out"),
                     "--gin_bindings=postprocess.postprocess_fn = @mean_representation",
                     "--gin_bindings=postprocess.random_seed = 0")
    assert completed.returncode == 2
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line.startswith("dtl_postprocess: error: input directory {} does not exist".format(
        tmp_path / "nowhere"))
    assert "dtl_train" in last_line
