"""No stage deletes what it did not write: output directories that hold other files, or that are or contain an
input, are refused with one line (exit 2), with and without --overwrite, and every file stays byte-for-byte."""
import json
import os

import pytest

from reliability_tools import MEAN_GIN, MIG_GIN, TRAIN_GIN, one_line_error, run, snapshot


def _postprocess(model, output, *extra):
    return run("dtl_postprocess", "--model_dir=" + model, "--output_dir=" + output, "--gin_config=" + MEAN_GIN,
               *extra)


def _evaluate(representation, output, *extra):
    return run("dtl_evaluate", "--input_dir=" + representation, "--output_dir=" + output, "--gin_config=" + MIG_GIN,
               *extra)


def _visualize(model, output, *extra):
    return run("dtl_visualize", "--model_dir=" + model, "--output_dir=" + output, "--num_animations=0",
               "--num_points_irs=20", *extra)


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_folder_of_user_files_is_refused_by_every_stage(model_copy, tmp_path, overwrite):
    user_dir = tmp_path / "mine"
    user_dir.mkdir()
    (user_dir / "notes.txt").write_text("my notes")
    (user_dir / "sub").mkdir()
    (user_dir / "sub" / "data.bin").write_bytes(b"\x00\x01")
    before = snapshot(str(user_dir))
    for name, completed in (("dtl_postprocess", _postprocess(model_copy["model"], str(user_dir), *overwrite)),
                            ("dtl_evaluate", _evaluate(model_copy["mean"], str(user_dir), *overwrite)),
                            ("dtl_visualize", _visualize(model_copy["model"], str(user_dir), *overwrite)),
                            ("dtl_train", run("dtl_train", "--model_dir=" + str(user_dir), "--gin_config=" + TRAIN_GIN,
                                              *overwrite))):
        assert completed.returncode == 2, (name, completed.stderr)
        line = one_line_error(completed, name)
        assert "files this stage did not write" in line and str(user_dir) in line
        assert snapshot(str(user_dir)) == before


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_an_output_that_is_or_contains_an_input_is_refused(model_copy, overwrite):
    root = model_copy["root"]
    before = snapshot(root)
    cases = [
        ("dtl_postprocess", _postprocess(model_copy["model"], model_copy["model"], *overwrite), "is the input"),
        ("dtl_postprocess", _postprocess(model_copy["model"], root, *overwrite), "contains the input"),
        ("dtl_evaluate", _evaluate(model_copy["mean"], model_copy["mean"], *overwrite), "is the input"),
        ("dtl_evaluate", _evaluate(model_copy["mean"], os.path.dirname(model_copy["mean"]), *overwrite),
         "contains the input"),
        # The trained model behind the representation is an input of the evaluation too.
        ("dtl_evaluate", _evaluate(model_copy["mean"], model_copy["model"], *overwrite), "is the input"),
        ("dtl_visualize", _visualize(model_copy["model"], root, *overwrite), "contains the input"),
    ]
    for name, completed, reason in cases:
        assert completed.returncode == 2, (name, completed.stderr)
        assert reason in one_line_error(completed, name)
    assert snapshot(root) == before


def test_overwrite_replaces_only_a_finished_step_of_the_same_kind(model_copy):
    # The evaluation directory holds finished 'evaluation' records: postprocess may not take it over.
    # (It also carries the postprocessing's finished records forward: those are not its own step.)
    before = snapshot(model_copy["mig"])
    for overwrite in ([], ["--overwrite"]):
        completed = _postprocess(model_copy["model"], model_copy["mig"], *overwrite)
        assert completed.returncode == 2
        assert "already holds finished 'evaluation' results" in one_line_error(completed, "dtl_postprocess")
    assert snapshot(model_copy["mig"]) == before
    # Its own kind is replaced with --overwrite (a new uuid), and refused without.
    completed = _evaluate(model_copy["mean"], model_copy["mig"])
    assert completed.returncode == 2 and "already holds finished 'evaluation' results" in completed.stderr
    with open(os.path.join(model_copy["mig"], "results", "json", "evaluation_results.json")) as f:
        old_uuid = json.load(f)["uuid"]
    assert _evaluate(model_copy["mean"], model_copy["mig"], "--overwrite").returncode == 0
    with open(os.path.join(model_copy["mig"], "results", "json", "evaluation_results.json")) as f:
        assert json.load(f)["uuid"] != old_uuid


def test_an_interrupted_step_is_redone_and_its_temporary_files_cleaned(model_copy):
    mig = model_copy["mig"]
    os.remove(os.path.join(mig, "results", "aggregate", "evaluation.json"))
    with open(os.path.join(mig, ".dtl_unfinished"), "w") as f:
        f.write('{"step": "evaluation"}')
    # A temporary file the killed run listed in its manifest before creating it, and a user's look-alike.
    stale = os.path.join(mig, "results", "json", ".dtl_tmp.evaluation_results.json.abc123")
    with open(stale, "w") as f:
        f.write("half a record")
    with open(os.path.join(mig, ".dtl_manifest.jsonl"), "a") as f:
        f.write(json.dumps({"writing": "results/json/evaluation_results.json",
                            "temp": "results/json/.dtl_tmp.evaluation_results.json.abc123"}) + "\n")
    user_file = os.path.join(mig, "results", "json", ".evaluation_results.json.abc123.tmp")
    with open(user_file, "w") as f:
        f.write("mine")
    completed = _evaluate(model_copy["mean"], mig)
    assert completed.returncode == 0, completed.stderr
    assert os.path.exists(os.path.join(mig, "results", "aggregate", "evaluation.json"))
    assert not os.path.exists(stale) and not os.path.exists(os.path.join(mig, ".dtl_unfinished"))
    with open(user_file) as f:
        assert f.read() == "mine"


def test_unfinished_work_of_another_step_is_not_taken_over(model_copy, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / ".dtl_unfinished").write_text('{"step": "postprocess"}')
    (other / "partial.txt").write_text("postprocess output")
    before = snapshot(str(other))
    completed = _evaluate(model_copy["mean"], str(other))
    assert completed.returncode == 2
    assert "unfinished work of step 'postprocess'" in one_line_error(completed, "dtl_evaluate")
    assert snapshot(str(other)) == before


def test_training_resumes_its_own_unfinished_directory_and_leaves_no_marker(tmp_path):
    model_dir = tmp_path / "model"
    completed = run("dtl_train", "--model_dir=" + str(model_dir), "--gin_config=" + TRAIN_GIN,
                    "--gin_bindings=model.training_steps = 4")
    assert completed.returncode == 0, completed.stderr
    assert sorted(os.listdir(model_dir)) == [".dtl_manifest.jsonl", "checkpoints", "exported", "results",
                                             "scalars.jsonl", "tensorboard"]
