"""Tests of dtl_reproduce_weakly_supervised and dtl_reproduce_semi_supervised as real subprocesses: the
reference's flags and layout, validation, the aggregated results file, no-op reruns and re-evaluation."""
import json
import os
import subprocess
import sys

import pytest

BIN = os.path.dirname(sys.executable)
TESTS = os.path.join(os.path.dirname(__file__), "..")
STUDY = os.path.join(TESTS, "..", "configs", "studies", "test")
ENV = dict(os.environ, OMP_NUM_THREADS="1")
SMALL_VISUALIZATION = ["--num_animations=1", "--num_frames=2", "--num_points_irs=50"]
PIPELINE = ["--pipeline_seed=0", "--gin_postprocess_config_glob={}/postprocess_configs/mean.gin".format(STUDY),
            "--gin_evaluation_config_glob={}/metric_configs/*.gin".format(STUDY)] + SMALL_VISUALIZATION
SEMI = ["--eval_seed=0", "--gin_validation_config_glob={}/validation/validation_test_configs/*.gin".format(TESTS)]
SUPERVISION = ["--supervised_seed=3", "--num_labelled_samples=20", "--train_percentage=0.5",
               "--labeller_fn=@perfect_labeller"]


def _run(command, *flags):
    return subprocess.run([os.path.join(BIN, command)] + list(flags), capture_output=True, text=True,
                          timeout=600, env=ENV)


def _json(*path):
    with open(os.path.join(*path)) as f:
        return json.load(f)


def test_weakly_supervised_pipeline(tmp_path):
    out = str(tmp_path / "weak")
    model = ["--gin_model_config_dir={}/methods/weak".format(TESTS), "--gin_model_config_name=train_test.gin",
             "--gin_bindings=model.eval_steps = 2"]
    completed = _run("dtl_reproduce_weakly_supervised", "--output_directory=" + out, *(model + PIPELINE))
    assert completed.returncode == 0, completed.stderr
    assert sorted(os.listdir(os.path.join(out, "metrics", "mean"))) == ["mig_0", "sap_score_0"]
    record = _json(out, "metrics", "mean", "mig_0", "results", "aggregate", "evaluation.json")
    assert record["train_config.model.model"] == "@group_vae_argmax()"
    assert record["train_config.model.name"] == "'train_test'"
    assert record["evaluation_config.evaluation.name"] == "'mig_0'"
    assert 0 <= record["evaluation_results.discrete_mig"] <= 1
    rerun = _run("dtl_reproduce_weakly_supervised", "--output_directory=" + out, *(model + PIPELINE))
    assert rerun.returncode == 0 and rerun.stdout.count("skipped") == 5, rerun.stdout


def test_semi_supervised_pipeline_validates_evaluates_and_aggregates(tmp_path):
    out = str(tmp_path / "semi")
    model = ["--gin_model_config_dir={}/methods/semi_supervised".format(TESTS),
             "--gin_model_config_name=train_test.gin"]
    completed = _run("dtl_reproduce_semi_supervised", "--output_directory=" + out,
                     *(model + PIPELINE + SEMI + SUPERVISION))
    assert completed.returncode == 0, completed.stderr
    train_config = _json(out, "model", "results", "json", "train_config.json")
    assert train_config["model.num_labelled_samples"] == "20" and train_config["model.supervised_data_seed"] == "3"
    assert train_config["model.train_percentage"] == "0.5"
    validations = sorted(os.listdir(os.path.join(out, "validation", "mean")))
    assert validations == ["dci_validation_3_20", "mig_validation_3_20", "sap_score_validation_3_20"]
    dci = _json(out, "validation", "mean", "dci_validation_3_20", "results", "aggregate", "validation.json")
    assert {"validation_results.disentanglement", "validation_results.completeness",
            "validation_results.informativeness_test", "train_config.model.model"} <= set(dci)
    assert dci["validation_config.dci_validation.train_percentage"] == "0.5"
    assert dci["validation_config.validation.random_seed"] == "3"
    assert sorted(os.listdir(os.path.join(out, "metrics", "mean"))) == ["mig_3", "sap_score_3"]
    aggregated = _json(out, "metrics", "aggregated_results.json")
    assert len(aggregated["evaluation_results.discrete_mig"]) == 2  # a DataFrame's columns, one row per metric

    # Re-evaluation from the trained model: the supervision comes from its records; the flags are refused.
    again = str(tmp_path / "again")
    refused = _run("dtl_reproduce_semi_supervised", "--output_directory=" + again, "--model_dir=" + out,
                   *(PIPELINE + SEMI + ["--supervised_seed=3"]))
    assert refused.returncode == 2
    assert "--supervised_seed must not be given with --model_dir" in refused.stderr.strip().splitlines()[-1]
    reevaluated = _run("dtl_reproduce_semi_supervised", "--output_directory=" + again, "--model_dir=" + out,
                       *(PIPELINE + SEMI))
    assert reevaluated.returncode == 0, reevaluated.stderr
    assert _json(again, "validation", "mean", "mig_validation_3_20", "results", "json", "validation_results.json")[
        "discrete_mig"] == _json(out, "validation", "mean", "mig_validation_3_20", "results", "json",
                                 "validation_results.json")["discrete_mig"]


@pytest.mark.parametrize("flags, message", [
    (SUPERVISION[:2], "needs --train_percentage, --labeller_fn"),
    (SUPERVISION[:2] + ["--train_percentage=0", "--labeller_fn=@perfect_labeller"], "--train_percentage=0.0"),
])
def test_semi_supervised_pipeline_refuses_missing_supervision(tmp_path, flags, message):
    completed = _run("dtl_reproduce_semi_supervised", "--output_directory={}".format(tmp_path / "out"),
                     "--gin_model_config_dir={}/methods/semi_supervised".format(TESTS),
                     "--gin_model_config_name=train_test.gin", *(PIPELINE + SEMI + flags))
    assert completed.returncode == 2
    assert message in completed.stderr.strip().splitlines()[-1]
    assert not os.path.exists(tmp_path / "out" / "model")
