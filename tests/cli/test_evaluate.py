"""Tests of dtl_evaluate (dlib_torch/cli/evaluate.py) as real subprocesses: the metric glob's layout, errors."""
import json
import os
import subprocess
import sys

from dlib_torch.postprocessing import postprocess

DTL_EVALUATE = os.path.join(os.path.dirname(sys.executable), "dtl_evaluate")
ENV = dict(os.environ, OMP_NUM_THREADS="1")
METRIC_CONFIGS = {
    "mig": "evaluation.evaluation_fn = @mig\ndataset.name = \"auto\"\nevaluation.random_seed = 0\n"
           "mig.num_train = 200\ndiscretizer.discretizer_fn = @histogram_discretizer\ndiscretizer.num_bins = 20\n",
    "held_out_reconstruction": "evaluation.evaluation_fn = @held_out_reconstruction\ndataset.name = \"auto\"\n"
                               "evaluation.random_seed = 0\nheld_out_reconstruction.num_samples = 20\n",
}


def _run(*arguments):
    return subprocess.run([DTL_EVALUATE] + list(arguments), capture_output=True, text=True, timeout=300, env=ENV)


def _postprocessed(model_dir, tmp_path):
    output_dir = str(tmp_path / "out" / "postprocessed" / "mean")
    postprocess.postprocess_with_gin(model_dir, output_dir, False, [],
                                     ["postprocess.postprocess_fn = @mean_representation", "dataset.name = 'auto'",
                                      "postprocess.random_seed = 0"])
    return output_dir


def test_the_metric_glob_writes_one_directory_per_metric_named_after_its_file(tiny_model, tmp_path):
    input_dir = _postprocessed(tiny_model(), tmp_path)
    config_dir = tmp_path / "metric_configs"
    config_dir.mkdir()
    for name, text in METRIC_CONFIGS.items():
        (config_dir / (name + ".gin")).write_text(text)
    (config_dir / "README.md").write_text("not a metric")
    output_dir = tmp_path / "out" / "metrics" / "mean"
    completed = _run("--input_dir={}".format(input_dir), "--output_dir={}".format(output_dir),
                     "--gin_evaluation_config_glob={}".format(config_dir / "*.gin"),
                     "--gin_bindings=evaluation.random_seed = 3")
    assert completed.returncode == 0, completed.stderr
    assert sorted(os.listdir(output_dir)) == ["held_out_reconstruction", "mig"]
    records = {}
    for name in METRIC_CONFIGS:
        with open(output_dir / name / "results" / "aggregate" / "evaluation.json") as f:
            records[name] = json.load(f)
        assert records[name]["evaluation_config.evaluation.name"] == "'{}'".format(name)
        assert records[name]["evaluation_config.evaluation.random_seed"] == "3"  # --gin_bindings come after the file
    assert "evaluation_results.discrete_mig" in records["mig"]
    assert "evaluation_results.test_nll" in records["held_out_reconstruction"]


def test_errors_are_one_line_with_exit_status_2(tiny_model, tmp_path):
    missing = _run("--input_dir={}".format(tmp_path / "nowhere"), "--output_dir={}".format(tmp_path / "out"),
                   "--gin_bindings=evaluation.evaluation_fn = @mig", "--gin_bindings=evaluation.random_seed = 0")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines()[-1].startswith(
        "dtl_evaluate: error: input directory {} does not exist; postprocess the model first".format(
            tmp_path / "nowhere"))
    # Input and output are checked before gin (which needs torch and the metrics): a real representation here.
    unknown = _run("--input_dir={}".format(_postprocessed(tiny_model(), tmp_path)),
                   "--output_dir={}".format(tmp_path / "out2"), "--gin_bindings=evaluation.evaluation_fn = @nope")
    assert unknown.returncode == 2
    last_line = unknown.stderr.strip().splitlines()[-1]
    assert last_line.startswith("dtl_evaluate: error: in gin binding")
    assert "unknown metric 'nope' in evaluation.evaluation_fn; registered metrics: " in last_line
    assert "mig" in last_line
    no_configs = _run("--input_dir={}".format(tmp_path), "--output_dir={}".format(tmp_path / "out"),
                      "--gin_evaluation_config_glob={}".format(tmp_path / "*.gin"))
    assert no_configs.returncode == 2
    assert no_configs.stderr.strip().splitlines()[-1] == "dtl_evaluate: error: --gin_evaluation_config_glob={} " \
        "matches no file".format(tmp_path / "*.gin")
