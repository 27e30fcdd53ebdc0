"""Whole dtl_reproduce runs of the `test` study: layout, records, seeds, skipping, re-evaluation, resuming.

These run the real training, visualisation, postprocessing and evaluation stages (a few seconds each).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from dlib_torch.config import reproduce as studies
from dlib_torch.utils import aggregate_results
from dlib_torch.utils import output_dirs

BIN = os.path.dirname(sys.executable)
POSTPROCESS_SEEDS = {"mean": "2357136044", "sampled": "2546248239"}
EVALUATION_SEEDS = {("mean", "mig"): "3071714933", ("mean", "sap_score"): "3626093760",
                    ("sampled", "mig"): "2588848963", ("sampled", "sap_score"): "3684848379"}
VOLATILE = ("elapsed_time", "uuid")


def reproduce(*args, timeout=900):
    return subprocess.run([os.path.join(BIN, "dtl_reproduce")] + list(args), capture_output=True, text=True,
                          timeout=timeout)


def load(path):
    with open(path) as f:
        return json.load(f)


def record(output_directory, post, metric):
    return load(os.path.join(output_directory, "metrics", post, metric, "results", "aggregate", "evaluation.json"))


def stable(record_dict, prefixes):
    """The record's entries under the prefixes, times and uuids aside (they differ between runs)."""
    return {k: v for k, v in record_dict.items() if k.startswith(prefixes) and not k.endswith(VOLATILE)}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """Model 1 of the test study (β-VAE on the shape2tx split), run once for the tests of this module."""
    root = tmp_path_factory.mktemp("reproduce")
    run = reproduce("--study=test", "--model_num=1", "--output_directory={}/{{study}}/{{model_num}}".format(root))
    assert run.returncode == 0, run.stderr
    return str(root / "test" / "1"), run


def test_layout_and_records(first_run):
    output_directory, run = first_run
    assert "dtl_reproduce: model 1 of study test is complete in {}".format(output_directory) in run.stdout
    assert os.path.exists(os.path.join(output_directory, "model", "results", "aggregate", "train.json"))
    assert os.path.exists(os.path.join(output_directory, "model", "exported", "gaussian_encoder.pt"))
    assert os.path.exists(os.path.join(output_directory, "visualizations", "results", "aggregate", "visualize.json"))
    for post, seed in POSTPROCESS_SEEDS.items():
        path = os.path.join(output_directory, "postprocessed", post, "results", "aggregate", "postprocess.json")
        assert load(path)["postprocess_config.postprocess.random_seed"] == seed
    for (post, metric), seed in EVALUATION_SEEDS.items():
        result = record(output_directory, post, metric)
        assert result["evaluation_config.evaluation.random_seed"] == seed
        assert result["evaluation_config.evaluation.name"] == "'{}'".format(metric)
        assert result["postprocess_config.postprocess.name"] == "'{}'".format(post)
        assert result["train_config.model.model_num"] == "1"
        assert result["train_config.model.name"] == "'beta_vae'"
        assert result["train_config.held_out.split"] == "'shape2tx'"
        assert result["train_config.vae.beta"] == "4.0"
    assert sorted(os.listdir(os.path.join(output_directory, "metrics", "mean"))) == ["mig", "sap_score"]


def test_rerun_skips_every_finished_step(first_run):
    output_directory, _ = first_run
    before = record(output_directory, "sampled", "mig")["evaluation_results.uuid"]
    run = reproduce("--study=test", "--model_num=1", "--output_directory=" + output_directory)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("; skipped") == 1 + 1 + 2 + 4
    assert record(output_directory, "sampled", "mig")["evaluation_results.uuid"] == before


def test_rerun_redoes_only_the_unfinished_step(first_run, tmp_path):
    output_directory = str(tmp_path / "copy")
    shutil.copytree(first_run[0], output_directory)
    kept = record(output_directory, "mean", "mig")["evaluation_results.uuid"]
    # An evaluation interrupted before its last record: its marker says the directory is its own work.
    unfinished = os.path.join(output_directory, "metrics", "sampled", "sap_score")
    os.remove(os.path.join(unfinished, "results", "aggregate", "evaluation.json"))
    with open(os.path.join(unfinished, output_dirs.UNFINISHED_MARKER), "w") as f:
        f.write('{"step": "evaluation"}')
    run = reproduce("--study=test", "--model_num=1", "--output_directory=" + output_directory)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("; skipped") == 1 + 1 + 2 + 3
    assert "evaluation sampled/sap_score -> " in run.stdout
    assert record(output_directory, "sampled", "sap_score")["evaluation_config.evaluation.random_seed"] == \
        EVALUATION_SEEDS[("sampled", "sap_score")]
    assert record(output_directory, "mean", "mig")["evaluation_results.uuid"] == kept


def test_model_dir_reevaluates_with_the_same_results(first_run, tmp_path):
    output_directory, _ = first_run
    run = reproduce("--study=test", "--model_dir=" + os.path.join(output_directory, "model"),
                    "--output_directory=" + str(tmp_path / "again"))
    assert run.returncode == 0, run.stderr
    assert "Model directory (skipped training):" in run.stdout
    assert not os.path.exists(tmp_path / "again" / "model")
    for post, metric in EVALUATION_SEEDS:
        assert stable(record(str(tmp_path / "again"), post, metric), ("evaluation_results.", "train_results.")) \
            == stable(record(output_directory, post, metric), ("evaluation_results.", "train_results."))


def test_overwrite_redoes_everything(first_run, tmp_path):
    output_directory = str(tmp_path / "copy")
    shutil.copytree(first_run[0], output_directory)
    before = record(output_directory, "mean", "mig")
    run = reproduce("--study=test", "--model_num=1", "--output_directory=" + output_directory, "--overwrite")
    assert run.returncode == 0, run.stderr
    assert "; skipped" not in run.stdout
    after = record(output_directory, "mean", "mig")
    assert after["train_results.uuid"] != before["train_results.uuid"]
    assert stable(after, ("evaluation_results.",)) == stable(before, ("evaluation_results.",))


def test_aggregate_the_run(first_run, tmp_path):
    output_directory, _ = first_run
    run = subprocess.run([os.path.join(BIN, "dtl_aggregate"),
                          "--result_file_pattern=" + os.path.join(output_directory, "metrics", "*", "*", "results",
                                                                  "aggregate", "evaluation.json"),
                          "--output_path=" + str(tmp_path / "results.json")], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    frame = aggregate_results.load_aggregated_json_results(str(tmp_path / "results.json"))
    assert len(frame) == 4
    assert set(frame["evaluation_config.evaluation.name"]) == {"'mig'", "'sap_score'"}
    assert (frame["train_config.model.model_num"] == 1).all()


def long_training_study(tmp_path, steps):
    """A copy of the test study whose models train for `steps` steps and report every 10 (to interrupt them)."""
    folder = tmp_path / "long_study"
    shutil.copytree(os.path.join(studies.studies_root(), "test"), folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    config = folder / "model_configs" / "train_test.gin"
    text = config.read_text()
    assert "model.training_steps = 20\n" in text
    config.write_text(text.replace("model.training_steps = 20\n", "model.training_steps = {}\n".format(steps)) +
                      "training_runtime.log_every_steps = 10\n")
    return str(folder)


def test_preempted_run_resumes_from_its_checkpoint(tmp_path):
    study = long_training_study(tmp_path, steps=400)
    interrupted, uninterrupted = str(tmp_path / "interrupted"), str(tmp_path / "uninterrupted")
    process = subprocess.Popen([os.path.join(BIN, "dtl_reproduce"), "--study=" + study, "--model_num=0",
                                "--output_directory=" + interrupted], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        model_dir = os.path.join(interrupted, "model")
        scalars = os.path.join(model_dir, "scalars.jsonl")  # training's first report: 10 steps done
        deadline = time.time() + 120
        while not (os.path.exists(scalars) and os.path.getsize(scalars)) and process.poll() is None \
                and time.time() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGUSR1)
        _, stderr = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 75, "training finished before the signal, or failed: " + stderr
    assert "dtl_reproduce: preempted:" in stderr
    assert not os.path.exists(os.path.join(model_dir, "results", "aggregate", "train.json"))
    assert os.path.exists(os.path.join(model_dir, "checkpoints", "latest.pt"))

    resumed = reproduce("--study=" + study, "--model_num=0", "--output_directory=" + interrupted)
    assert resumed.returncode == 0, resumed.stderr
    assert "dtl_reproduce: resuming unfinished training in {}".format(model_dir) in resumed.stdout
    whole = reproduce("--study=" + study, "--model_num=0", "--output_directory=" + uninterrupted)
    assert whole.returncode == 0, whole.stderr
    for post, metric in EVALUATION_SEEDS:
        prefixes = ("train_results.", "evaluation_results.")
        assert stable(record(interrupted, post, metric), prefixes) == \
            stable(record(uninterrupted, post, metric), prefixes)


def test_only_metrics_reruns_chosen_metrics_with_the_study_seeds(first_run, tmp_path):
    original, _ = first_run
    copy = str(tmp_path / "copy")
    shutil.copytree(original, copy)
    shutil.rmtree(os.path.join(copy, "metrics", "mean", "mig"))
    sap_record = os.path.join(copy, "metrics", "mean", "sap_score", "results", "aggregate", "evaluation.json")
    sap_mtime = os.stat(sap_record).st_mtime_ns
    run = reproduce("--study=test", "--model_num=1", "--output_directory={}".format(copy), "--only_metrics=mean/mig")
    assert run.returncode == 0, run.stderr
    steps = [line for line in run.stdout.splitlines() if line.startswith("dtl_reproduce: ")]
    assert "train" not in [line.split()[1] for line in steps]
    assert any(line.startswith("dtl_reproduce: postprocess mean is finished") for line in steps), steps
    assert any(line.startswith("dtl_reproduce: evaluation mean/mig -> ") for line in steps), steps
    assert not any("sap_score" in line or "sampled" in line or "visualiz" in line for line in steps), steps
    assert "dtl_reproduce: metrics mean/mig of model 1 of study test are in" in run.stdout
    again = record(copy, "mean", "mig")
    assert again["evaluation_config.evaluation.random_seed"] == EVALUATION_SEEDS[("mean", "mig")]
    assert stable(again, ("evaluation_results",)) == stable(record(original, "mean", "mig"), ("evaluation_results",))
    assert os.stat(sap_record).st_mtime_ns == sap_mtime

    unknown = reproduce("--study=test", "--model_num=1", "--output_directory={}".format(copy), "--only_metrics=nope")
    assert unknown.returncode == 2
    assert "--only_metrics names 'nope', which is not a metric of this study; its metrics: mig, sap_score" in \
        unknown.stderr
    untrained = reproduce("--study=test", "--model_num=1", "--output_directory={}".format(tmp_path / "empty"),
                          "--only_metrics=mig")
    assert untrained.returncode == 2 and "--only_metrics evaluates a trained model" in untrained.stderr


def test_fast_evaluation_mode_is_recorded_and_never_mixed_with_parity_results(first_run, tmp_path):
    original, _ = first_run
    copy = str(tmp_path / "copy")
    shutil.copytree(original, copy)
    parity = record(copy, "mean", "mig")
    assert parity["evaluation_config.evaluation_runtime.mode"] == "'parity'"
    refused = reproduce("--study=test", "--model_num=1", "--output_directory={}".format(copy),
                        "--evaluation_mode=fast")
    assert refused.returncode == 2, refused.stderr
    assert "mean/mig holds parity-mode results and this run asks for fast mode; replace them with " \
           "--only_metrics=mean/mig --overwrite" in refused.stderr
    assert record(copy, "mean", "mig") == parity  # nothing was replaced
    run = reproduce("--study=test", "--model_num=1", "--output_directory={}".format(copy), "--evaluation_mode=fast",
                    "--only_metrics=mean/mig", "--overwrite")
    assert run.returncode == 0, run.stderr
    fast = record(copy, "mean", "mig")
    assert fast["evaluation_config.evaluation_runtime.mode"] == "'fast'"
    assert fast["evaluation_config.evaluation.random_seed"] == EVALUATION_SEEDS[("mean", "mig")]
    # MIG has no boosted trees; the fast mode's frozen encoder moves codes by about 1e-8.
    assert abs(fast["evaluation_results.discrete_mig"] - parity["evaluation_results.discrete_mig"]) < 1e-3
    bad = reproduce("--study=test", "--model_num=1", "--output_directory={}".format(copy), "--evaluation_mode=quick")
    assert bad.returncode != 0 and "evaluation_mode" in bad.stderr
