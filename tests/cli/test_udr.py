"""Tests of dtl_udr (dlib_torch/cli/udr.py) as real subprocesses on tiny trained models: both modes, errors."""
import json
import os
import shutil
import subprocess
import sys

import pytest

DTL_UDR = os.path.join(os.path.dirname(sys.executable), "dtl_udr")
DTL_AGGREGATE = os.path.join(os.path.dirname(sys.executable), "dtl_aggregate")
ENV = dict(os.environ, OMP_NUM_THREADS="1", DTL_NUM_JOBS="1")
# Small and quick: 200 observations, 50 per batch.
SMALL = ["--gin_bindings=udr_sklearn.num_data_points = 200", "--gin_bindings=udr_sklearn.batch_size = 50"]


def _run(*arguments):
    return subprocess.run([DTL_UDR] + list(arguments), capture_output=True, text=True, timeout=300, env=ENV)


def _record(directory):
    with open(os.path.join(directory, "results", "aggregate", "evaluation.json")) as f:
        return json.load(f)


@pytest.fixture
def three_seeds(tiny_model):
    return [tiny_model("model.random_seed = {}".format(seed)) for seed in range(3)]


def test_model_dirs_writes_the_references_record_with_the_first_models_records(three_seeds, tmp_path):
    config = tmp_path / "udr_spearman.gin"  # the reference's test config, as it ships
    config.write_text('evaluation.evaluation_fn = @udr_sklearn\ndataset.name="auto"\nevaluation.random_seed = 0\n'
                      'udr_sklearn.batch_size=10\nudr_sklearn.num_data_points=100\n'
                      'udr_sklearn.correlation_matrix="spearman"\nudr_sklearn.filter_low_kl=True\n'
                      'udr_sklearn.include_raw_correlations=True\nudr_sklearn.kl_filter_threshold = 0.01\n')
    output = str(tmp_path / "udr")
    done = _run("--model_dirs=" + ",".join(three_seeds), "--output_dir=" + output, "--gin_config=" + str(config))
    assert done.returncode == 0, done.stderr
    record = _record(output)
    scores = record["evaluation_results.model_scores"]
    assert len(scores) == 3 and all(0. <= s <= 1. for s in scores)
    pairwise = record["evaluation_results.pairwise_disentanglement_scores"]
    assert len(pairwise) == 3 and pairwise[0][0] == [0.]
    assert len(record["evaluation_results.raw_correlations"][0][1]) == 4  # [M, M, D, D], 4 latents
    assert record["train_config.model.random_seed"] == "0"  # the first model's records carried forward
    assert record["evaluation_config.udr_sklearn.correlation_matrix"] == "'spearman'"
    assert record["evaluation_config.dataset.name"] == "'dsprites_procedural'"  # 'auto' resolved

    # The same again (--output_directory, the reference README's spelling) gives the same scores.
    again = _run("--model_dirs=" + ",".join(three_seeds), "--output_directory=" + str(tmp_path / "udr2"),
                 "--gin_config=" + str(config))
    assert again.returncode == 0, again.stderr
    assert _record(str(tmp_path / "udr2"))["evaluation_results.model_scores"] == scores
    # A finished record is kept unless --overwrite.
    refused = _run("--model_dirs=" + ",".join(three_seeds), "--output_dir=" + output, "--gin_config=" + str(config))
    assert refused.returncode == 2 and "--overwrite" in refused.stderr.strip().splitlines()[-1]


def test_bad_input_is_one_line_and_exit_status_2(three_seeds, tmp_path):
    cases = [
        (["--model_dirs=" + three_seeds[0], "--output_dir=" + str(tmp_path / "a")], "at least two"),
        (["--model_dirs=" + ",".join(three_seeds), "--output_dir=" + str(tmp_path / "b"),
          "--gin_bindings=udr_sklearn.num_data_points = 105"], "not a multiple of udr_sklearn.batch_size"),
        (["--model_dirs=" + ",".join(three_seeds), "--output_dir=" + str(tmp_path / "c"),
          "--gin_bindings=udr_sklearn.correlation_matrix = 'pearson'"], "'lasso', 'spearman'"),
        (["--model_dirs={},{}".format(three_seeds[0], tmp_path / "missing"), "--output_dir=" + str(tmp_path / "d")],
         "does not exist"),
        (["--model_dirs=" + ",".join(three_seeds), "--output_dir=" + three_seeds[0]], "is the input"),
        (["--output_dir=" + str(tmp_path / "e")], "either --model_dirs"),
    ]
    for arguments, expected in cases:
        done = _run(*arguments)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, (arguments, done.stderr)
        assert lines[-1].startswith("dtl_udr: error:") and expected in lines[-1], (expected, lines[-1])
    assert not os.path.exists(tmp_path / "b") and not os.path.exists(tmp_path / "c")


def test_study_ranks_each_group_and_writes_one_record_per_model(tiny_model, three_seeds, tmp_path):
    study = tmp_path / "mystudy"
    (study / "model_configs").mkdir(parents=True)
    (study / "model_configs" / "shared.gin").write_text("")
    (study / "sweep.py").write_text("def get_config():\n    return [{'model.random_seed': s} for s in range(5)]\n")
    root = tmp_path / "output"
    # Models 0-2: three seeds with beta 1; model 3 alone with beta 2; model 4 not trained.
    for model_num, model_dir in enumerate(three_seeds + [tiny_model("vae.beta = 2.")]):
        shutil.copytree(model_dir, root / "mystudy" / str(model_num) / "model")
    done = _run("--study=" + str(study), "--output_directory=" + str(root), "--group_by=dataset.name,vae.beta",
                *SMALL)
    assert done.returncode == 0, done.stderr
    assert "has one finished model (3)" in done.stdout
    scores = {}
    for model_num in range(3):
        record = _record(str(root / "mystudy" / str(model_num) / "metrics" / "mean" / "udr"))
        assert record["evaluation_results.udr_group_model_nums"] == [0, 1, 2]
        assert record["evaluation_config.evaluation.name"] == "'udr'"
        assert record["train_config.model.random_seed"] == str(model_num)
        scores[model_num] = record["evaluation_results.udr"]
    assert all(0. <= s <= 1. for s in scores.values())
    assert not os.path.exists(root / "mystudy" / "3" / "metrics")

    # dtl_aggregate picks the records up like any other metric.
    aggregated = tmp_path / "results.json"
    pattern = str(root / "*" / "*" / "metrics" / "*" / "*" / "results" / "aggregate" / "evaluation.json")
    done = subprocess.run([DTL_AGGREGATE, "--result_file_pattern=" + pattern, "--output_path=" + str(aggregated)],
                          capture_output=True, text=True, timeout=300, env=ENV)
    assert done.returncode == 0, done.stderr
    from dlib_torch.utils import aggregate_results
    frame = aggregate_results.load_aggregated_json_results(str(aggregated))
    assert sorted(frame["evaluation_results.udr"]) == pytest.approx(sorted(scores.values()))  # JSON keeps 10 digits

    # A rerun leaves a scored group alone; a finished group whose membership changed needs --overwrite.
    rerun = _run("--study=" + str(study), "--output_directory=" + str(root), "--group_by=dataset.name,vae.beta",
                 *SMALL)
    assert rerun.returncode == 0 and "already scored" in rerun.stdout, rerun.stderr
    shutil.copytree(three_seeds[0], root / "mystudy" / "4" / "model")
    grown = _run("--study=" + str(study), "--output_directory=" + str(root), "--group_by=dataset.name,vae.beta",
                 *SMALL)
    assert grown.returncode == 2 and "--overwrite" in grown.stderr.strip().splitlines()[-1]
    grown = _run("--study=" + str(study), "--output_directory=" + str(root), "--group_by=dataset.name,vae.beta",
                 "--overwrite", *SMALL)
    assert grown.returncode == 0, grown.stderr
    record = _record(str(root / "mystudy" / "4" / "metrics" / "mean" / "udr"))
    assert record["evaluation_results.udr_group_model_nums"] == [0, 1, 2, 4]
    unknown = _run("--study=" + str(study), "--output_directory=" + str(root), "--group_by=nope.param", *SMALL)
    assert unknown.returncode == 2 and "nope.param" in unknown.stderr.strip().splitlines()[-1]
