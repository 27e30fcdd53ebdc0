"""Tests of aggregate_results: columns, `path`, skipping unreadable records, round trip, parallel reads."""
import os

import pandas as pd
import pytest

from dlib_torch.utils import aggregate_results
from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError

PATTERN = "output/*/*/metrics/*/*/results/aggregate/evaluation.json"


def write_record(root, study, model_num, post, metric, score):
    """Writes an evaluation record where dtl_reproduce puts it; returns its path."""
    path = os.path.join(root, "output", study, str(model_num), "metrics", post, metric, "results", "aggregate",
                        "evaluation.json")
    record = results.namespaced_dict(
        train_config={"dataset.name": "'dsprites_full'", "model.model": "@vae()", "vae.beta": "4.0",
                      "model.random_seed": str(model_num)},
        train_results={"loss": 100.5 + model_num, "elapsed_time": 12.0, "uuid": "u-{}".format(model_num)},
        postprocess_config={"postprocess.name": "'{}'".format(post)},
        evaluation_config={"evaluation.name": "'{}'".format(metric), "mig.num_train": "10000"},
        evaluation_results={"discrete_mig": score, "elapsed_time": 3.5})
    results.save_dict(path, record)
    return path


@pytest.fixture
def sweep(tmp_path, monkeypatch):
    """Six finished records of two studies, one unfinished metric directory; cwd is the sweep's root."""
    monkeypatch.chdir(tmp_path)
    paths = [write_record("", study, n, post, "mig", 0.1 * n + (post == "sampled"))
             for study, n in [("quickstart", 0), ("quickstart", 1), ("test", 0)] for post in ["mean", "sampled"]]
    os.makedirs(os.path.join("output", "test", "1", "metrics", "mean", "dci", "results", "json"))
    return sorted(paths)


def test_columns_are_the_records_keys_plus_path(sweep):
    summary = aggregate_results.aggregate_results_to_json(PATTERN, "results.json")
    assert summary == aggregate_results.Summary(6, 0, [])
    frame = aggregate_results.load_aggregated_json_results("results.json")
    assert len(frame) == 6
    assert set(frame.columns) == {
        "train_config.dataset.name", "train_config.model.model", "train_config.vae.beta",
        "train_config.model.random_seed", "train_results.loss", "train_results.elapsed_time",
        "train_results.uuid", "postprocess_config.postprocess.name", "evaluation_config.evaluation.name",
        "evaluation_config.mig.num_train", "evaluation_results.discrete_mig", "evaluation_results.elapsed_time",
        "path"}


def test_path_is_the_records_file(sweep):
    aggregate_results.aggregate_results_to_json(PATTERN, "results.json")
    frame = aggregate_results.load_aggregated_json_results("results.json")
    assert sorted(frame["path"]) == sweep


def test_round_trip_keeps_the_values(sweep):
    aggregate_results.aggregate_results_to_json(PATTERN, "results.json")
    frame = aggregate_results.load_aggregated_json_results("results.json").set_index("path")
    row = frame.loc[os.path.join("output", "quickstart", "1", "metrics", "sampled", "mig", "results",
                                 "aggregate", "evaluation.json")]
    assert row["evaluation_results.discrete_mig"] == pytest.approx(1.1)
    assert row["train_config.dataset.name"] == "'dsprites_full'"
    assert row["train_config.model.model"] == "@vae()"
    assert row["postprocess_config.postprocess.name"] == "'sampled'"
    assert row["train_results.loss"] == pytest.approx(101.5)
    # As in the reference (pandas.read_json), numeric gin values load as numbers.
    assert row["train_config.vae.beta"] == 4.0


def test_unreadable_records_are_skipped_and_reported(sweep):
    truncated, empty, not_a_dict = sweep[0], sweep[2], sweep[4]
    with open(truncated) as f:
        text = f.read()
    with open(truncated, "w") as f:
        f.write(text[:len(text) // 2])
    open(empty, "w").close()
    with open(not_a_dict, "w") as f:
        f.write("[1, 2]")
    summary = aggregate_results.aggregate_results_to_json(PATTERN, "results.json")
    assert summary == aggregate_results.Summary(3, 3, [truncated, empty, not_a_dict])
    frame = aggregate_results.load_aggregated_json_results("results.json")
    assert sorted(frame["path"]) == [sweep[1], sweep[3], sweep[5]]


def test_parallel_reading_gives_the_same_file(sweep, monkeypatch):
    aggregate_results.aggregate_results_to_json(PATTERN, "serial.json", num_processes=1)
    monkeypatch.setattr(aggregate_results, "_MIN_FILES_FOR_POOL", 1)
    monkeypatch.setattr(aggregate_results, "_CHUNK_SIZE", 2)
    aggregate_results.aggregate_results_to_json(PATTERN, "parallel.json", num_processes=2)
    with open("serial.json") as a, open("parallel.json") as b:
        assert a.read() == b.read()


def test_its_own_output_is_replaced_a_users_only_when_asked_and_its_folder_created(sweep):
    os.makedirs("analysis")
    with open(os.path.join("analysis", "results.json"), "w") as f:
        f.write("old")
    with pytest.raises(UserError, match="exists and was not written by this command"):
        aggregate_results.aggregate_results_to_json(PATTERN, os.path.join("analysis", "results.json"))
    aggregate_results.aggregate_results_to_json(PATTERN, os.path.join("analysis", "results.json"), overwrite=True)
    for _ in range(2):  # its own file: replaced by a rerun
        aggregate_results.aggregate_results_to_json(PATTERN, os.path.join("new", "deeper", "results.json"))
    for path in [os.path.join("analysis", "results.json"), os.path.join("new", "deeper", "results.json")]:
        assert len(aggregate_results.load_aggregated_json_results(path)) == 6
    assert sorted(os.listdir("analysis")) == [".dtl_manifest.jsonl", "results.json"]


def test_recursive_pattern(sweep):
    summary = aggregate_results.aggregate_results_to_json("output/**/evaluation.json", "results.json")
    assert summary.num_records == 6


def test_no_matching_record_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no result files match"):
        aggregate_results.aggregate_results_to_json(str(tmp_path / "*" / "evaluation.json"),
                                                    str(tmp_path / "r.json"))
    assert not os.path.exists(tmp_path / "r.json")


def test_loads_files_written_by_pandas_like_the_reference(tmp_path):
    path = str(tmp_path / "results.json")
    pd.DataFrame([{"evaluation_results.discrete_mig": 0.5, "path": "a"}]).to_json(path)
    frame = aggregate_results.load_aggregated_json_results(path)
    assert frame.loc[0, "evaluation_results.discrete_mig"] == 0.5 and frame.loc[0, "path"] == "a"


def test_load_records_reads_without_writing_and_counts_the_skipped(sweep):
    with open(sweep[0], "w") as f:
        f.write('{"evaluation_results.discrete_m')
    records, num_skipped = aggregate_results.load_records(PATTERN)
    assert num_skipped == 1 and sorted(r["path"] for r in records) == sweep[1:]
    assert not os.path.exists("results.json")
    with pytest.raises(UserError, match="no result files match"):
        aggregate_results.load_records("nothing/*.json")
