"""dtl_report as a user runs it: on an aggregate or a glob of records, its records and refusals, and bad input
as one line with exit status 2; then the whole way from dtl_reproduce and dtl_aggregate on real records."""
import json
import os
import subprocess
import sys

import pytest

from dlib_torch.utils import aggregate_results
from dlib_torch.visualize.report import synthetic_records

BIN = os.path.dirname(sys.executable)


def dtl(command, *args, cwd=None, timeout=300):
    return subprocess.run([os.path.join(BIN, command)] + list(args), capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def last_line(run):
    return run.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def aggregate(tmp_path_factory):
    """A partial sweep of generalisation_study_v1 (8 models of dsprites' extrapolation condition, 2 seeds)."""
    directory = tmp_path_factory.mktemp("aggregate")
    records = synthetic_records.study_records("generalisation_study_v1", [120 + 5 * m + s for m in range(8)
                                                                         for s in (0, 1)])
    path = str(directory / "results.json")
    synthetic_records.write_aggregate(records, path)
    return path


def test_report_of_a_partial_sweep_with_its_records(aggregate, tmp_path):
    run = dtl("dtl_report", "--input=" + aggregate, "--output_dir=report", "--study=generalisation_study_v1",
              "--gin_bindings=report.dpi = 40", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "dtl_report: wrote report/index.html"
    with open(tmp_path / "report" / "index.html", encoding="utf-8") as f:
        text = f.read()
    assert "Study generalisation_study_v1: 16 of its 480 models are present (3.3%)" in text
    assert os.path.isfile(tmp_path / "report" / "tables" / "generalisation_dsprites_full.csv")
    with open(tmp_path / "report" / "results" / "aggregate" / "report.json") as f:
        record = json.load(f)
    assert record["report_results.num_records"] == 32 and record["report_results.num_models"] == 16
    assert record["report_config.report.dpi"] == "40"
    # A finished report is kept unless --overwrite, which redoes it.
    run = dtl("dtl_report", "--input=" + aggregate, "--output_dir=report", cwd=tmp_path)
    assert run.returncode == 2 and "already holds finished 'report' results; pass --overwrite" in last_line(run)
    run = dtl("dtl_report", "--input=" + aggregate, "--output_dir=report", "--overwrite",
              "--gin_bindings=report.dpi = 40", cwd=tmp_path)
    assert run.returncode == 0, run.stderr


def test_bad_input_is_one_line(aggregate, tmp_path):
    (tmp_path / "empty.json").write_text("{}")
    (tmp_path / "foreign.json").write_text(json.dumps({"name": {"0": "x"}, "value": {"0": 1}}))
    (tmp_path / "list.json").write_text("[1, 2, 3]")
    (tmp_path / "text.json").write_text("not json at all")
    cases = {
        "--input=empty.json": "the input holds no dlib_torch/disentanglement_lib records",
        "--input=foreign.json": "the input holds no dlib_torch/disentanglement_lib records",
        "--input=list.json": "the input holds no dlib_torch/disentanglement_lib records",
        "--input=text.json": "--input text.json is not an aggregated results file (JSON of dtl_aggregate)",
        "--input=missing.json": "--input missing.json does not exist; give the JSON file dtl_aggregate wrote",
        "--result_file_pattern=none/*.json": "no result files match 'none/*.json'",
    }
    for flag, message in cases.items():
        run = dtl("dtl_report", flag, "--output_dir=out", cwd=tmp_path)
        assert run.returncode == 2, (flag, run.stderr)
        assert last_line(run).startswith("dtl_report: error: ") and message in last_line(run), (flag, run.stderr)
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert not os.path.exists(tmp_path / "out")
    for args, message in [
            (["--output_dir=out"], "give the records: --input=results.json"),
            (["--input=" + aggregate, "--output_dir=out", "--study=nope"], "unknown study 'nope'"),
            (["--input=" + aggregate, "--output_dir=out", "--gin_bindings=report.dpi = 5"],
             "report.dpi = 5 is out of range; it must be an integer >= 30 and <= 600"),
            (["--input=" + aggregate, "--output_dir=out", "--gin_bindings=report.representation = 'sampled'"],
             "report.representation = 'sampled' is not allowed; it must be one of 'auto', 'mean'"),
            (["--input=" + aggregate, "--output_dir=" + os.path.dirname(aggregate)], "contains the input")]:
        run = dtl("dtl_report", *args, cwd=tmp_path)
        assert run.returncode == 2 and message in last_line(run), (args, run.stderr)
    assert not os.path.exists(tmp_path / "out")


def test_result_file_pattern_reads_the_records_themselves(tmp_path):
    records = synthetic_records.study_records("quickstart", [0, 1], metrics=["mig", "held_out_reconstruction"],
                                              output_root="output")
    for record in records:
        path = tmp_path / record["path"]
        os.makedirs(path.parent)
        path.write_text(json.dumps({k: v for k, v in record.items() if k != "path"}))
    run = dtl("dtl_report", "--result_file_pattern=output/*/*/metrics/*/*/results/aggregate/evaluation.json",
              "--output_dir=report", "--gin_bindings=report.dpi = 40", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "4 records from 2 trained models (dsprites_procedural)." in text
    # Without --study, the study the paths name (output/<study>/<model_num>/...).
    assert "Study quickstart (named by the records&#x27; paths; --study sets it): 2 of its 6 models are present" in text
    assert "generalisation_dsprites_procedural.csv" in text


def test_from_dtl_reproduce_through_dtl_aggregate(tmp_path):
    """Real records: model 1 of the test study (a tiny β-VAE on a held-out split), aggregated, reported."""
    run = dtl("dtl_reproduce", "--study=test", "--model_num=1", "--output_directory=output/{study}/{model_num}",
              cwd=tmp_path, timeout=900)
    assert run.returncode == 0, run.stderr
    run = dtl("dtl_aggregate", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    frame = aggregate_results.load_aggregated_json_results(str(tmp_path / "results.json"))
    assert len(frame) == 4
    run = dtl("dtl_report", "--input=results.json", "--output_dir=report", "--study=test",
              "--gin_bindings=report.dpi = 40", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "4 records from 1 trained model (dsprites_procedural)." in text
    assert "Study test: 1 of its 3 models are present (33.3%)" in text
    metrics = (tmp_path / "report" / "tables" / "metrics.csv").read_text()
    assert "mig,MIG,discrete_mig,1,1" in metrics and "sap_score,SAP,SAP_score,1,1" in metrics
