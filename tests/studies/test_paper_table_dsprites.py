"""paper_table_dsprites and paper_table_dsprites_cpu: the paper's dSprites rows in the paper's setting, their model
numbers, the CPU variant's differences, and one model of it run end to end into dtl_report's comparison."""
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from dlib_torch.config import reproduce

CONDITIONS = ["leave1out", "shape2tx", "blank_side"]
MODELS = [("beta_vae", "vae.beta", 1.), ("beta_vae", "vae.beta", 8.), ("beta_vae", "vae.beta", 12.),
          ("factor_vae", "factor_vae.gamma", 20.), ("factor_vae", "factor_vae.gamma", 50.),
          ("factor_vae", "factor_vae.gamma", 100.), ("gt_decoder", "model.model", "@gt_decoder()")]


def test_the_tables_rows_in_the_papers_setting():
    study = reproduce.get_study("paper_table_dsprites")
    base = reproduce.get_study("generalisation_study_v1_paper_architectures").get_configs()
    assert study.num_models() == 63
    for model_num, config in enumerate(study.get_configs()):
        seed, rest = divmod(model_num, 21)
        condition, model = divmod(rest, 7)
        name, key, value = MODELS[model]
        assert (config["dataset.name"], config["held_out.split"], config["model.name"], config[key],
                config["model.random_seed"]) == ("dsprites_full", CONDITIONS[condition], name, value, seed)
        assert config in base  # exactly the paper-setting model of generalisation_study_v1_paper_architectures
    gt = study.get_config(20)
    assert (gt["decoder.decoder_fn"], gt["gt_decoder.inputs"], gt["model.training_steps"],
            gt["vae/AdamOptimizer.learning_rate"], gt["model_selection.every_steps"],
            gt["model_selection.num_batches"]) == ("@higgins_decoder", "raw", 5000, 0.001, 10, 100)
    assert study.get_config(0)["model.training_steps"] == 30 * 11430  # 30 epochs of leave1out's 731,472 images
    assert study.get_model_config(0)[1].endswith(os.path.join("generalisation_study_v1_paper_architectures",
                                                              "model_configs", "paper_architectures.gin"))


def test_the_cpu_variant_differs_only_in_data_and_vae_length():
    table = reproduce.get_study("paper_table_dsprites").get_configs()
    cpu = reproduce.get_study("paper_table_dsprites_cpu").get_configs()
    assert len(cpu) == len(table) == 63
    for full, short in zip(table, cpu):
        assert short["dataset.name"] == "dsprites_procedural"
        changed = {k for k in full if full[k] != short[k]}
        if full["model.name"] == "gt_decoder":
            assert changed == {"dataset.name"}
        else:
            assert changed == {"dataset.name", "model.training_steps", "model_selection.every_steps",
                               "model_selection.num_batches"}
            assert (short["model.training_steps"], short["model_selection.every_steps"],
                    short["model_selection.num_batches"]) == (5000, 1000, 100)


@pytest.mark.parametrize("name", ["paper_table_dsprites", "paper_table_dsprites_cpu"])
def test_shipped_with_the_paper_setting_metrics(name):
    assert name in reproduce.study_names()
    study = reproduce.get_study(name)
    base = reproduce.get_study("generalisation_study_v1_paper_architectures")
    for ours, theirs in ((study.get_eval_config_files(), base.get_eval_config_files()),
                         (study.get_postprocess_config_files(), base.get_postprocess_config_files())):
        assert [os.path.basename(p) for p in ours] == [os.path.basename(p) for p in theirs]
        for a, b in zip(ours, theirs):
            with open(a, encoding="utf-8") as fa, open(b, encoding="utf-8") as fb:
                assert fa.read() == fb.read()


TINY_SWEEP = '''
from dlib_torch.config import reproduce

CPU = reproduce.get_study("paper_table_dsprites_cpu").sweep
get_model_config_file = CPU.get_model_config_file
VISUALIZE_OPTIONS = {"num_animations": 1, "num_frames": 2, "num_points_irs": 20}


def get_config():
    config = dict(CPU.get_config()[6])  # the ground-truth decoder, recombination to element
    config.update({"model.training_steps": 20, "model_selection.every_steps": 10, "model_selection.num_batches": 2})
    return [config]
'''
TINY_METRICS = {"held_out_reconstruction.gin": "held_out_reconstruction.num_samples = 64\n",
                "dci.gin": "dci.num_train = 200\ndci.num_test = 100\n"}


def run(command, *args, cwd):
    completed = subprocess.run([os.path.join(os.path.dirname(sys.executable), command)] + list(args), cwd=cwd,
                               capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


def test_one_model_end_to_end_into_the_comparison(tmp_path):
    """The CPU study's ground-truth decoder (20 steps here), through dtl_reproduce, dtl_aggregate and dtl_report."""
    cpu = reproduce.get_study("paper_table_dsprites_cpu")
    study = tmp_path / "tiny_paper_table"
    (study / "metric_configs").mkdir(parents=True)
    (study / "postprocess_configs").mkdir()
    (study / "sweep.py").write_text(TINY_SWEEP)
    for path in cpu.get_eval_config_files():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        (study / "metric_configs" / os.path.basename(path)).write_text(text + TINY_METRICS[os.path.basename(path)])
    for path in cpu.get_postprocess_config_files():
        shutil.copy(path, str(study / "postprocess_configs"))
    run("dtl_reproduce", "--study=" + str(study), "--model_num=0", "--output_directory=out/{study}/{model_num}",
        cwd=str(tmp_path))
    run("dtl_aggregate", "--result_file_pattern=out/*/*/metrics/*/*/results/aggregate/evaluation.json",
        "--output_path=results.json", cwd=str(tmp_path))
    completed = run("dtl_report", "--input=results.json", "--output_dir=report", cwd=str(tmp_path))
    assert completed.stdout.strip().splitlines()[-1].startswith("dtl_report: ")
    table = pd.read_csv(tmp_path / "report" / "tables" / "paper_comparison_dsprites_procedural.csv")
    row = table.iloc[0]
    assert len(table) == 1 and (row["model"], row["condition"], row["split"]) == (
        "GT decoder", "recombination_to_element", "leave1out")
    assert (row["seeds"], row["training_steps"], row["train_images"], row["held_out_images"]) == (1, 20, 64, 64)
    assert (row["paper_train_nll"], row["paper_test_nll"]) == (49.80, 60.81)
    assert row["train_nll_mean"] > 0 and row["ratio_mean"] == pytest.approx(row["test_nll_mean"] /
                                                                            row["train_nll_mean"])
    assert row["d_key"] == "lasso_disentanglement" and row["d_mean"] > 0.9  # its codes are the factors
    with open(tmp_path / "report" / "index.html", encoding="utf-8") as f:
        assert "Comparison with the paper&#x27;s tables" in f.read()
