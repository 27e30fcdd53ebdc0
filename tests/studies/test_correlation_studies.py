"""correlation_study_v1, latent_quantization_hfs_study_v1 and correlation_quickstart: model numbers and settings,
the weak trainer of Ada-GVAE, and tiny whole runs of dtl_reproduce's steps through dtl_aggregate and dtl_report."""
import os
import subprocess
import sys

import pytest

from dlib_torch.cli import reproduce as cli
from dlib_torch.config import correlation_sweeps
from dlib_torch.config import reproduce
from dlib_torch.utils import aggregate_results
from dlib_torch.utils import results

BIN = os.path.dirname(sys.executable)
DATASETS = ["dsprites_procedural", "dsprites_full", "shapes3d", "mpi3d_real"]


def distribution(config):
    """(pair, sigma) of a setting; (None, None) when uncorrelated."""
    if config["factor_sampling.mode"] == "independent":
        assert "factor_sampling.pairs" not in config
        return None, None
    (pair,), (sigma,) = config["factor_sampling.pairs"], config["factor_sampling.strengths"]
    assert config["factor_sampling.directions"] == [1]
    return pair, sigma


@pytest.mark.parametrize("name, methods", [
    ("correlation_study_v1", ["beta_vae", "factor_vae", "beta_tc_vae", "dip_vae_i", "dip_vae_ii", "annealed_vae",
                              "ada_gvae"]),
    ("latent_quantization_hfs_study_v1", ["beta_vae", "beta_tc_vae", "beta_vae_hfs", "beta_tc_vae_hfs", "qlae",
                                          "qlvae"]),
])
def test_grid_and_numbering(name, methods):
    study = reproduce.get_study(name)
    per_distribution = 5 * len(methods)
    assert study.num_models() == 4 * 10 * per_distribution
    for model_num, config in enumerate(study.get_configs()):
        dataset, rest = divmod(model_num, 10 * per_distribution)
        index, rest = divmod(rest, per_distribution)
        method, seed = divmod(rest, 5)
        assert config["dataset.name"] == DATASETS[dataset]
        assert (config["model.name"], config["model.random_seed"]) == (methods[method], seed)
        pair, sigma = distribution(config)
        if index == 0:
            assert pair is None
        else:
            pairs = correlation_sweeps.SINGLE_PAIRS[DATASETS[dataset]]
            assert (pair, sigma) == (pairs[(index - 1) // 3], [0.7, 0.4, 0.2][(index - 1) % 3])
    assert "metric_configs/infomec.gin" in "".join(study.get_eval_config_files())


def test_weak_models_train_with_the_weak_trainer():
    study = reproduce.get_study("correlation_study_v1")
    assert study.get_trainer(6 * 5) == "weak" and study.get_trainer(5 * 5) == "unsupervised"
    assert study.get_model_config(6 * 5)[1].endswith("model_configs/weak.gin")
    steps = cli.plan(study, 6 * 5, "out")
    assert steps[0].options == {"trainer": "weak"}
    assert cli.plan(reproduce.get_study("quickstart"), 0, "out")[0].options == {"trainer": "unsupervised"}
    lq = reproduce.get_study("latent_quantization_hfs_study_v1")
    assert {lq.get_trainer(n) for n in range(0, 300, 5)} == {"unsupervised"}
    assert lq.get_model_config(4 * 5)[1].endswith("qlae.gin") and lq.get_model_config(5 * 5)[1].endswith("qlvae.gin")
    assert "hfs.gamma = 1000.0" in lq.get_model_config(2 * 5)[0]


def test_quickstart_grid():
    study = reproduce.get_study("correlation_quickstart")
    assert study.num_models() == 18
    configs = study.get_configs()
    assert [distribution(c)[1] for c in configs[::6]] == [None, 0.4, 0.2]
    assert {distribution(c)[0] for c in configs[6:]} == {("posX", "posY")}
    assert [c["model.name"] for c in configs[:6]] == ["beta_vae"] * 2 + ["beta_vae_hfs"] * 2 + ["ada_gvae"] * 2
    assert [study.get_trainer(n) for n in range(6)] == ["unsupervised"] * 4 + ["weak"] * 2


def test_only_print_names_the_weak_trainer():
    run = subprocess.run([os.path.join(BIN, "dtl_reproduce"), "--study=correlation_quickstart", "--model_num=5",
                          "--only_print"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "model.model = @group_vae_argmax()" in run.stdout and "Trainer: weak" in run.stdout


TINY_TRAINING = ["model.training_steps = 2", "model.batch_size = 4", "model.eval_steps = 1",
                 "encoder.num_latent = 4", "encoder.encoder_fn = @test_encoder", "decoder.decoder_fn = @test_decoder"]
TINY_METRICS = ["dci.num_train = 60", "dci.num_test = 30", "infomec.num_train = 60"]


def run_tiny(study_name, model_num, root):
    """dtl_reproduce's steps of one model with tiny training, visualisation and metrics (dci and infomec)."""
    study = reproduce.get_study(study_name)
    steps = []
    for step in cli.plan(study, model_num, os.path.join(root, study_name, str(model_num))):
        if step.kind == "train":
            step = step._replace(bindings=step.bindings + TINY_TRAINING)
        elif step.kind == "visualize":
            step = step._replace(options={"num_animations": 1, "num_frames": 2, "num_points_irs": 20})
        elif step.kind == "evaluation":
            if step.name.split("/")[1] not in ("dci", "infomec"):
                continue
            step = step._replace(bindings=step.bindings + TINY_METRICS)
        steps.append(step)
    cli.run_steps(steps, overwrite=False, log=lambda line: None)
    return steps


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("studies"))
    ada_gvae = 35 * 5 + 5 * 6  # correlation_study_v1: posX-posY at sigma 0.4, Ada-GVAE, seed 0
    qlae = 30 * 4 + 5 * 4  # latent_quantization_hfs_study_v1: posX-posY at sigma 0.7, QLAE, seed 0
    hfs = 30 * 6 + 5 * 2 + 1  # posX-posY at sigma 0.2, β-VAE + HFS, seed 1
    runs = {("correlation_study_v1", n): run_tiny("correlation_study_v1", n, root) for n in (0, ada_gvae)}
    runs.update({("latent_quantization_hfs_study_v1", n): run_tiny("latent_quantization_hfs_study_v1", n, root)
                 for n in (qlae, hfs)})
    return root, runs


def test_tiny_models_of_each_study_run_every_step(tiny_runs):
    _, runs = tiny_runs
    for (study_name, model_num), steps in runs.items():
        for step in steps:
            assert results.step_finished(step.output_dir, step.kind), (study_name, model_num, step.name)
        record = results.load_record(os.path.join(steps[-1].output_dir, "results", "aggregate", "evaluation.json"))
        assert record["train_config.model.model_num"] == str(model_num)
        if model_num:
            assert record["train_config.factor_sampling.pairs"] == "[('posX', 'posY')]"
            assert record["evaluation_config.evaluation.factor_sampling"] == "'independent'"
    weak = runs[("correlation_study_v1", 205)][0]
    assert "dynamics.k" in results.load_record(os.path.join(weak.output_dir, "results", "json", "train_config.json"))


def test_tiny_runs_reach_aggregate_and_report(tiny_runs, tmp_path):
    root, _ = tiny_runs
    aggregated = str(tmp_path / "results.json")
    run = subprocess.run([os.path.join(BIN, "dtl_aggregate"), "--output_path=" + aggregated,
                          "--result_file_pattern={}/*/*/metrics/*/*/results/aggregate/evaluation.json".format(root)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert len(aggregate_results.load_aggregated_json_results(aggregated)) == 4 * 2
    report_dir = str(tmp_path / "report")
    run = subprocess.run([os.path.join(BIN, "dtl_report"), "--input=" + aggregated, "--output_dir=" + report_dir],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    with open(os.path.join(report_dir, "index.html"), encoding="utf-8") as f:
        page = f.read()
    assert "Disentanglement and correlated factors" in page
    assert "correlation_dsprites_procedural.png" in page
    summary = open(os.path.join(report_dir, "tables", "correlation_strength.csv")).read()
    for group in ("Ada-GVAE", "QLAE", "β-VAE + HFS", "β-VAE"):
        assert group in summary
