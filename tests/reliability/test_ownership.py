"""What each command owns, case by case (the matrix covers the classes; these are the specific failures a hostile
run found): single-file writers and their inputs, a record of another step in a planned folder, dtl_udr's records,
job scripts and their templates, flags that become gin bindings, labeller values, and the report's inputs."""
import json
import os
import shutil

import pytest

from reliability_tools import MIG_GIN, STUDY, TESTS, TRAIN_GIN, one_line_error, run, snapshot


# --- dtl_aggregate: one file, never a user's or an input ---------------------------------------------------

def test_aggregate_replaces_only_its_own_file_and_never_an_input(trained_model, tmp_path):
    records = tmp_path / "sweep"
    shutil.copytree(trained_model["mig"], records / "0" / "mig")
    pattern = "--result_file_pattern=" + str(records / "**" / "evaluation.json")
    record = records / "0" / "mig" / "results" / "aggregate" / "evaluation.json"
    before = record.read_bytes()
    for extra in ([], ["--overwrite"]):  # one of the inputs: never, even with --overwrite
        completed = run("dtl_aggregate", pattern, "--output_path=" + str(record), *extra)
        assert completed.returncode == 2, completed.stderr
        assert "is one of the files this command reads" in one_line_error(completed, "dtl_aggregate")
        assert record.read_bytes() == before
    user_file = tmp_path / "analysis" / "results.json"
    user_file.parent.mkdir()
    user_file.write_text("my own results")
    completed = run("dtl_aggregate", pattern, "--output_path=" + str(user_file))
    assert completed.returncode == 2
    assert "was not written by this command" in one_line_error(completed, "dtl_aggregate")
    assert user_file.read_text() == "my own results"
    ours = tmp_path / "analysis" / "ours.json"
    for _ in range(2):  # its own file is replaced on a rerun, without --overwrite
        assert run("dtl_aggregate", pattern, "--output_path=" + str(ours)).returncode == 0
    ours.write_text("edited by hand")
    completed = run("dtl_aggregate", pattern, "--output_path=" + str(ours))
    assert "has changed since this command wrote it" in one_line_error(completed, "dtl_aggregate")
    assert run("dtl_aggregate", pattern, "--output_path=" + str(user_file), "--overwrite").returncode == 0
    assert json.loads(user_file.read_text())  # replaced, as asked


# --- dtl_reproduce: a finished record must be the planned step's ------------------------------------------

@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    root = tmp_path_factory.mktemp("reproduced") / "run"
    completed = run("dtl_reproduce", "--study=test", "--model_num=0", "--output_directory=" + str(root))
    assert completed.returncode == 0, completed.stderr
    return root


def test_a_record_of_another_metric_in_a_planned_folder_is_not_counted_as_done(reproduced, tmp_path):
    root = tmp_path / "run"
    shutil.copytree(reproduced, root)
    mig, sap = root / "metrics" / "mean" / "mig", root / "metrics" / "mean" / "sap_score"
    shutil.rmtree(mig)
    shutil.copytree(sap, mig)  # a SAP result where the MIG result belongs
    (mig / "NOTES.md").write_text("mine")
    args = ["--study=test", "--model_num=0", "--output_directory=" + str(root)]
    before = snapshot(str(root))
    completed = run("dtl_reproduce", *args)
    assert completed.returncode == 2, completed.stderr
    line = one_line_error(completed, "dtl_reproduce")
    assert str(mig) in line and "evaluation.name = 'sap_score'" in line and "'mig'" in line
    assert snapshot(str(root)) == before
    completed = run("dtl_reproduce", *args, "--only_metrics=mig", "--overwrite")
    assert completed.returncode == 0, completed.stderr
    record = json.loads((mig / "results" / "aggregate" / "evaluation.json").read_text())
    assert record["evaluation_config.evaluation.name"] == "'mig'"
    assert (mig / "NOTES.md").read_text() == "mine"


@pytest.mark.parametrize("selection", [",,", " , "])
def test_an_empty_metric_selection_is_refused(reproduced, selection):
    completed = run("dtl_reproduce", "--study=test", "--model_num=0", "--output_directory=" + str(reproduced),
                    "--only_metrics=" + selection)
    assert completed.returncode == 2
    assert "names no metric" in one_line_error(completed, "dtl_reproduce")


# --- dtl_evaluate never replaces a dtl_udr record ---------------------------------------------------------

def test_evaluate_overwrite_does_not_take_over_a_udr_record(trained_model, tmp_path):
    second = tmp_path / "second"
    assert run("dtl_train", "--model_dir=" + str(second), "--gin_config=" + TRAIN_GIN,
               "--gin_bindings=model.random_seed = 1").returncode == 0
    udr = tmp_path / "udr"
    completed = run("dtl_udr", "--model_dirs={},{}".format(trained_model["model"], second), "--output_dir=" + str(udr),
                    "--gin_bindings=udr_sklearn.num_data_points = 100", "--gin_bindings=udr_sklearn.batch_size = 50")
    assert completed.returncode == 0, completed.stderr
    before = snapshot(str(udr))
    completed = run("dtl_evaluate", "--input_dir=" + trained_model["mean"], "--output_dir=" + str(udr),
                    "--gin_config=" + MIG_GIN, "--overwrite")
    assert completed.returncode == 2, completed.stderr
    assert "written as 'udr'" in one_line_error(completed, "dtl_evaluate")
    assert snapshot(str(udr)) == before


def test_udr_names_a_model_without_its_train_gin(trained_model, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(trained_model["model"], broken)
    os.remove(broken / "results" / "gin" / "train.gin")
    completed = run("dtl_udr", "--model_dirs={},{}".format(trained_model["model"], broken),
                    "--output_dir=" + str(tmp_path / "udr"))
    assert completed.returncode == 2
    assert "has no" in one_line_error(completed, "dtl_udr") and "train.gin" in completed.stderr


# --- dtl_submit: templates and the user's files -----------------------------------------------------------

@pytest.mark.parametrize("flag,value,words", [
    ("--output_directory", "out/{seed}/{model_num}", "may only use the placeholders"),
    ("--output_directory", "out/{model_num", "is not a valid template"),
    ("--import_from", "/data/{shard}.zip", "may only use the placeholders"),
    ("--import_from", "/data/{.zip", "is not a valid template"),
])
def test_submit_refuses_templates_every_job_would_fail_on(tmp_path, flag, value, words):
    completed = run("dtl_submit", "--study=test", "--dry_run", "--job_directory=" + str(tmp_path / "jobs"),
                    "{}={}".format(flag, value))
    assert completed.returncode == 2, completed.stderr
    assert words in one_line_error(completed, "dtl_submit")
    assert not (tmp_path / "jobs").exists()


def test_submit_never_replaces_a_users_file(tmp_path):
    jobs = tmp_path / "jobs"
    args = ["--study=test", "--dry_run", "--job_directory=" + str(jobs)]
    assert run("dtl_submit", *args).returncode == 0
    (script,) = [p for p in jobs.iterdir() if p.suffix == ".sbatch"]
    assert run("dtl_submit", *args).returncode == 0  # its own script, rewritten
    script.write_text("#!/bin/bash\n# my edits\n")
    completed = run("dtl_submit", *args)
    assert completed.returncode == 2
    assert "has changed since this command wrote it" in one_line_error(completed, "dtl_submit")
    assert script.read_text() == "#!/bin/bash\n# my edits\n"


# --- flags that become gin bindings, and labeller values ------------------------------------------------------

SEMI = ["--pipeline_seed=0", "--eval_seed=0", "--supervised_seed=3", "--num_labelled_samples=20",
        "--train_percentage=0.5", "--gin_model_config_dir={}/methods/semi_supervised".format(TESTS),
        "--gin_model_config_name=train_test.gin",
        "--gin_postprocess_config_glob={}/postprocess_configs/mean.gin".format(STUDY),
        "--gin_validation_config_glob={}/validation/validation_test_configs/mig.gin".format(TESTS),
        "--gin_evaluation_config_glob={}/metric_configs/mig.gin".format(STUDY)]


def test_a_line_break_in_labeller_fn_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    hostile = "@perfect_labeller\nimport os; os.system('touch {}')".format(marker)
    output = tmp_path / "semi"
    completed = run("dtl_reproduce_semi_supervised", "--output_directory=" + str(output), *SEMI,
                    "--labeller_fn=" + hostile)
    assert completed.returncode == 2, completed.stderr
    assert "is not a single value" in one_line_error(completed, "dtl_reproduce_semi_supervised")
    assert not marker.exists() and not output.exists()


@pytest.mark.parametrize("bindings,words", [
    (["labeller.labeller_fn = @noisy_labeller", "noisy_labeller.prob_random = 2"], "noisy_labeller.prob_random = 2"),
    (["labeller.labeller_fn = @bin_labeller", "bin_labeller.num_bins = 0"], "bin_labeller.num_bins = 0"),
    (["annealer.anneal_fn = @anneal", "annealer.iteration_threshold = 0"], "annealer.iteration_threshold = 0"),
    (["annealer.anneal_fn = @anneal", "annealer.iteration_threshold = -5"], "annealer.iteration_threshold = -5"),
])
def test_semi_supervised_values_are_checked_before_the_output_exists(tmp_path, bindings, words):
    output = tmp_path / "semi"
    completed = run("dtl_reproduce_semi_supervised", "--output_directory=" + str(output), *SEMI,
                    "--labeller_fn=@perfect_labeller", *["--gin_bindings=" + b for b in bindings])
    assert completed.returncode == 2, completed.stderr
    assert words in one_line_error(completed, "dtl_reproduce_semi_supervised")
    assert not output.exists()


def test_more_labels_than_the_data_set_holds_is_refused(tmp_path):
    model = tmp_path / "model"
    completed = run("dtl_train_semi_supervised", "--model_dir=" + str(model),
                    "--gin_config={}/methods/semi_supervised/train_test.gin".format(TESTS),
                    "--gin_bindings=dataset.name = 'dsprites_procedural'",
                    "--gin_bindings=model.num_labelled_samples = 1000000")
    assert completed.returncode == 2, completed.stderr
    assert "is larger than the data set (737280 observations)" in one_line_error(completed,
                                                                                   "dtl_train_semi_supervised")
    assert not model.exists()


# --- dtl_report: its inputs counted once, unusable scores named, write failures fatal --------------------------

def _aggregate(trained_model, tmp_path, scores=()):
    """dtl_aggregate's file of the session's MIG record, plus one copy per score in `scores` (another model with
    that MIG score, written into the file as a user's tools might: a string, Infinity)."""
    records = tmp_path / "sweep"
    shutil.copytree(trained_model["mig"], records / "0" / "mig")
    output = tmp_path / "results.json"
    assert run("dtl_aggregate", "--result_file_pattern=" + str(records / "**" / "evaluation.json"),
               "--output_path=" + str(output)).returncode == 0
    frame = json.loads(output.read_text())
    for i, score in enumerate(scores, start=1):
        for column, values in frame.items():
            values[str(i)] = values["0"]
        frame["path"][str(i)] = "copy{}/{}".format(i, frame["path"]["0"])
        frame["train_results.uuid"][str(i)] = "model-{}".format(i)
        frame["evaluation_results.discrete_mig"][str(i)] = score
    output.write_text(json.dumps(frame))  # Python's json writes inf as Infinity, as pandas reads it
    return output


def test_report_counts_an_input_given_twice_once_and_names_unusable_scores(trained_model, tmp_path):
    aggregated = _aggregate(trained_model, tmp_path, scores=["high", float("inf")])
    output = tmp_path / "report"
    completed = run("dtl_report", "--input=" + str(aggregated), "--input=" + str(aggregated),
                    "--output_dir=" + str(output))
    assert completed.returncode == 0, completed.stderr
    record = json.loads((output / "results" / "json" / "report_results.json").read_text())
    assert record["num_records"] == 3 and record["num_models"] == 3
    page = (output / "index.html").read_text()
    assert "2 of its &#x27;discrete_mig&#x27; values are not finite numbers" in page or \
        "2 of its 'discrete_mig' values are not finite numbers" in page


def test_report_fails_when_its_figures_cannot_be_written(trained_model, tmp_path):
    import subprocess
    aggregated = _aggregate(trained_model, tmp_path)
    disk = tmp_path / "small"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40k", "tmpfs", str(disk)]).returncode != 0:
        pytest.skip("needs root to mount a tmpfs")
    try:
        completed = run("dtl_report", "--input=" + str(aggregated), "--output_dir=" + str(disk / "report"))
        assert completed.returncode == 2, completed.stderr
        assert "No space left on device" in one_line_error(completed, "dtl_report")
        assert (disk / "report" / ".dtl_unfinished").exists()  # left unfinished, not reported done
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)
