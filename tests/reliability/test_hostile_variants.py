"""Variants a second hostile run tried against the manifest design: folders that look like a training's, links and
forged manifests in an output, an output inside its input, a manifest torn by a full disk, the tool's own names
as outputs, a data set's folder holding the user's files, and errors re-raised by gin."""
import errno
import json
import os
import shutil

import gin
import pytest

from reliability_tools import MEAN_GIN, MIG_GIN, TRAIN_GIN, one_line_error, run, snapshot


def _evaluate(mean, output, *extra):
    return run("dtl_evaluate", "--input_dir=" + mean, "--output_dir=" + str(output), "--gin_config=" + MIG_GIN, *extra)


def test_a_users_folder_shaped_like_a_training_is_not_taken_over(tmp_path):
    folder = tmp_path / "r"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "tensorboard").mkdir()
    (folder / "checkpoints" / "resnet_best.pt").write_text("mine")
    (folder / "tensorboard" / "events.mine").write_text("mine")
    (folder / "scalars.jsonl").write_text("my log\n")
    before = snapshot(str(folder))
    for extra in ([], ["--overwrite"]):
        completed = run("dtl_train", "--model_dir=" + str(folder), "--gin_config=" + TRAIN_GIN, *extra)
        assert completed.returncode == 2, completed.stderr
        assert "files this stage did not write" in one_line_error(completed, "dtl_train")
        assert snapshot(str(folder)) == before


def test_a_lock_file_that_is_a_link_is_never_followed(model_copy, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.symlink(str(victim), os.path.join(model_copy["mig"], ".dtl_lock"))
    completed = _evaluate(model_copy["mean"], model_copy["mig"], "--overwrite")
    assert completed.returncode == 2, completed.stderr
    assert "is not dlib_torch's lock file" in one_line_error(completed, "dtl_evaluate")
    assert victim.read_text() == "precious"


def test_a_forged_manifest_cannot_remove_anything_outside(model_copy, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    with open(os.path.join(model_copy["mig"], ".dtl_manifest.jsonl"), "a") as f:
        f.write(json.dumps({"writing": "results/x.json", "temp": "../../../victim"}) + "\n")
    completed = _evaluate(model_copy["mean"], model_copy["mig"], "--overwrite")
    assert completed.returncode == 2, completed.stderr
    assert "manifest" in one_line_error(completed, "dtl_evaluate")
    assert victim.read_text() == "precious"


def test_a_linked_folder_in_an_output_is_never_emptied(model_copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(os.path.join(model_copy["mig"], "results"), elsewhere)
    shutil.rmtree(os.path.join(model_copy["mig"], "results"))
    os.symlink(str(elsewhere), os.path.join(model_copy["mig"], "results"))
    before = snapshot(str(elsewhere))
    completed = _evaluate(model_copy["mean"], model_copy["mig"], "--overwrite")
    assert completed.returncode == 2, completed.stderr
    one_line_error(completed, "dtl_evaluate")
    assert snapshot(str(elsewhere)) == before


def test_an_output_inside_its_input_is_refused(model_copy):
    before = snapshot(model_copy["model"])
    completed = run("dtl_postprocess", "--model_dir=" + model_copy["model"],
                    "--output_dir=" + os.path.join(model_copy["model"], "results", "pp"), "--gin_config=" + MEAN_GIN)
    assert completed.returncode == 2, completed.stderr
    assert "lies inside the input" in one_line_error(completed, "dtl_postprocess")
    assert snapshot(model_copy["model"]) == before


def test_a_manifest_torn_by_a_full_disk_does_not_lock_the_output_forever(model_copy):
    path = os.path.join(model_copy["mig"], ".dtl_manifest.jsonl")
    with open(path, "a") as f:
        f.write('{"file": "results/json/evaluation_res')  # half a line: the disk filled up mid-append
    with open(os.path.join(model_copy["mig"], "NOTES.md"), "w") as f:
        f.write("x")
    for extra in (["--overwrite"], ["--overwrite"]):
        completed = _evaluate(model_copy["mean"], model_copy["mig"], *extra)
        assert completed.returncode == 0, completed.stderr
    with open(os.path.join(model_copy["mig"], "NOTES.md")) as f:
        assert f.read() == "x"


@pytest.mark.parametrize("name", [".dtl_lock", ".dtl_manifest.jsonl"])
def test_the_tools_own_names_are_no_output(trained_model, tmp_path, name):
    completed = run("dtl_aggregate", "--result_file_pattern=" + os.path.join(trained_model["mig"], "**", "*.json"),
                    "--output_path=" + str(tmp_path / name), "--overwrite")
    assert completed.returncode == 2
    assert "keeps for its own files" in one_line_error(completed, "dtl_aggregate")


def test_aggregate_names_a_directory_as_output(trained_model, tmp_path):
    completed = run("dtl_aggregate", "--result_file_pattern=" + os.path.join(trained_model["mig"], "**", "*.json"),
                    "--output_path=" + str(tmp_path) + "/")
    assert completed.returncode == 2
    assert "is a directory; name the JSON file" in one_line_error(completed, "dtl_aggregate")
    assert os.listdir(tmp_path) == []


def test_a_long_file_name_is_written_through_its_temporary_file(tmp_path):
    from dlib_torch.utils import atomic
    from dlib_torch.utils import output_dirs
    name = "r" * 250 + ".json"
    with output_dirs.claim(str(tmp_path / "out"), "evaluation"):
        atomic.write_text(str(tmp_path / "out" / name), "{}")
        atomic.write_text(str(tmp_path / "out" / "results" / "aggregate" / "evaluation.json"), "{}")
    assert (tmp_path / "out" / name).read_text() == "{}"


def test_an_error_re_raised_by_gin_keeps_its_exit_status():
    from dlib_torch.cli import common

    @gin.configurable("raises_permission_error")
    def raises():
        raise PermissionError(errno.EACCES, "Permission denied", "/some/file")

    with pytest.raises(SystemExit) as stopped:
        with common._failures_as_exit_statuses("dtl_test"):  # pylint: disable=protected-access
            raises()
    assert stopped.value.code == 2
