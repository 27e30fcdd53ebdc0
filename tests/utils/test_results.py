import json
import os

import gin
import numpy as np
import pytest

from dlib_torch.utils import results


@gin.configurable("results_test_vae")
def _vae(beta=1.0):
    return beta


@gin.configurable("results_test_model")
def _model(model=None, name="", batch_size=64, dataset_name="dsprites_full"):
    return model


@pytest.fixture
def operative_config():
    gin.clear_config()
    gin.parse_config([
        "results_test_vae.beta = 4.",
        "results_test_model.model = @results_test_vae()",
        "results_test_model.name = 'beta_vae'",
        "results_test_model.dataset_name = \"dsprites_full\"",
    ])
    _model()
    yield
    gin.clear_config()


def test_update_result_directory_writes_reference_layout(tmp_path, operative_config):
    result_dir = str(tmp_path / "model" / "results")
    results.update_result_directory(result_dir, "train", {"loss": np.float32(1.5), "elapsed_time": 2})
    for rel in ["gin/train.gin", "json/train_config.json", "json/train_results.json", "aggregate/train.json"]:
        assert os.path.exists(os.path.join(result_dir, rel)), rel
    config = json.load(open(os.path.join(result_dir, "json", "train_config.json")))
    assert config["results_test_vae.beta"] == "4.0"
    assert config["results_test_model.model"] == "@results_test_vae()"
    assert config["results_test_model.name"] == "'beta_vae'"
    assert config["results_test_model.dataset_name"] == "'dsprites_full'"
    aggregate = json.load(open(os.path.join(result_dir, "aggregate", "train.json")))
    assert aggregate["train_config.results_test_vae.beta"] == "4.0"
    assert aggregate["train_results.loss"] == 1.5 and len(aggregate["train_results.uuid"]) == 36
    assert results.step_finished(str(tmp_path / "model"), "train")


def test_later_steps_carry_earlier_records_forward(tmp_path, operative_config):
    first = str(tmp_path / "model" / "results")
    results.update_result_directory(first, "train", {"loss": 1.0})
    second = str(tmp_path / "post" / "results")
    results.update_result_directory(second, "postprocess", {"elapsed_time": 0.5}, old_result_directory=first)
    aggregate = json.load(open(os.path.join(second, "aggregate", "postprocess.json")))
    assert aggregate["train_results.loss"] == 1.0
    assert aggregate["postprocess_results.elapsed_time"] == 0.5
    assert "postprocess_config.results_test_vae.beta" in aggregate
    assert os.path.exists(os.path.join(second, "aggregate", "train.json"))


def test_gin_dict_matches_the_reference_formats(tmp_path):
    path = tmp_path / "train.gin"
    path.write_text(
        "# Parameters for model:\n"
        "# ==============================================================================\n"
        "dataset.name = 'dsprites_full'\n"
        "model.model = @vae()\n"
        "vae.beta = 1.0\n"
        "vae/AdamOptimizer.beta1 = 0.9\n"
        "downstream_task.num_train = [10, 100, 1000, 10000]\n"
        "unified.very_long = \\\n"
        "    {'aaaaaaaaaaaaaaaaaaaaaaaa': 1,\n"
        "     'bbbbbbbbbbbbbbbbbbbbbbbb': 2}\n"
        "model.name = 'a = b'\n")
    config = results.gin_dict(str(path))
    assert config == {
        "dataset.name": "'dsprites_full'", "model.model": "@vae()", "vae.beta": "1.0",
        "vae/AdamOptimizer.beta1": "0.9", "downstream_task.num_train": "[10, 100, 1000, 10000]",
        "unified.very_long": "{'aaaaaaaaaaaaaaaaaaaaaaaa': 1, 'bbbbbbbbbbbbbbbbbbbbbbbb': 2}",
        "model.name": "'a = b'"}


def test_namespaced_dict_and_aggregate(tmp_path):
    assert results.namespaced_dict({"!": "!!"}, numbers={"1": "one"}, chars={"a": "A"}) == {
        "!": "!!", "numbers.1": "one", "chars.a": "A"}
    (tmp_path / "x.json").write_text(json.dumps({"a": 1}))
    (tmp_path / "y_results.json").write_text(json.dumps({"b": [1, 2]}))
    (tmp_path / "notes.txt").write_text("ignored")
    assert results.aggregate_json_results(str(tmp_path)) == {"x.a": 1, "y_results.b": [1, 2]}


def test_a_failed_write_leaves_the_old_record_intact(tmp_path):
    path = str(tmp_path / "json" / "train_results.json")
    results.save_dict(path, {"loss": 1.0})
    with pytest.raises(TypeError):
        results.save_dict(path, {"loss": 2.0, "bad": object()})  # fails half way through encoding
    assert json.load(open(path)) == {"loss": 1.0}
    assert os.listdir(os.path.dirname(path)) == ["train_results.json"]  # no temporary file left behind
