"""dtl_aggregate as a user runs it: the default pattern (study level included), the summary line."""
import os
import subprocess
import sys

from dlib_torch.utils import aggregate_results
from dlib_torch.utils import results

DTL_AGGREGATE = os.path.join(os.path.dirname(sys.executable), "dtl_aggregate")


def write_record(root, study, model_num, metric):
    """Writes a record under `root` where dtl_reproduce puts it; returns its path relative to `root`."""
    path = os.path.join("output", study, str(model_num), "metrics", "mean", metric, "results", "aggregate",
                        "evaluation.json")
    results.save_dict(os.path.join(root, path), {"evaluation_results.score": model_num,
                                                 "train_config.model.model": "@vae()"})
    return path


def test_default_pattern_finds_what_dtl_reproduce_writes(tmp_path):
    paths = [write_record(str(tmp_path), study, n, metric) for study in ["quickstart", "test"] for n in range(3)
             for metric in ["mig", "dci"]]
    os.makedirs(tmp_path / "output" / "test" / "9" / "model")  # a model still training
    with open(tmp_path / paths[0], "w") as f:
        f.write('{"evaluation_results.sco')  # a record being written by hand, cut short
    run = subprocess.run([DTL_AGGREGATE], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "wrote 11 records to results.json (1 unreadable or unfinished records skipped" in run.stdout
    assert paths[0] in run.stderr
    frame = aggregate_results.load_aggregated_json_results(str(tmp_path / "results.json"))
    assert sorted(frame["path"]) == sorted(paths[1:])


def test_flags_and_error_line(tmp_path):
    write_record(str(tmp_path / "sweep"), "s", 0, "mig")
    run = subprocess.run([DTL_AGGREGATE, "--result_file_pattern=sweep/output/**/evaluation.json",
                          "--output_path=analysis/all.json"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert len(aggregate_results.load_aggregated_json_results(str(tmp_path / "analysis" / "all.json"))) == 1
    run = subprocess.run([DTL_AGGREGATE, "--result_file_pattern=nothing/*.json"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == (
        "dtl_aggregate: error: no result files match 'nothing/*.json'; check --result_file_pattern")
