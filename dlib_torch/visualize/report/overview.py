"""What the records hold: how many models of the study are present (a sweep still running is partial), per
data set and method, and which metrics each representation has."""
import pandas as pd

from dlib_torch.visualize.report import main_scores
from dlib_torch.visualize.report import records as records_lib


def summary_lines(records, study=None):
    """The page's opening lines: records, models, data sets and, given a study, its coverage."""
    frame = records.frame
    lines = ["{} from {} ({}).".format(
        records_lib.numbered(len(frame), "record"), records_lib.numbered(records.num_models, "trained model"),
        ", ".join(records.datasets()) or "no data set recorded")]
    if study is not None:
        present = _study_model_nums(records, study)
        total = study.num_models()
        lines.append("Study {}{}: {:,} of its {:,} models are present ({:.1f}%){}.".format(
            study.name, " (named by the records' paths; --study sets it)" if getattr(study, "inferred", False) else "",
            len(present), total, 100.0 * len(present) / max(total, 1),
            "; the sweep is partial, so every figure shows only the models present" if len(present) < total else ""))
    return lines


def add_to_page(page, records, study=None):
    section = page.section("Records", "What the aggregated records hold, per data set and method, and the score "
                                      "each metric is plotted with.")
    frame = records.frame
    coverage = frame.groupby(["dataset", "method"]).agg(models=("model_id", "nunique"), records=("model_id", "size"))
    if study is not None:
        expected = _expected_models(study)
        if expected is not None:
            coverage = coverage.join(expected, how="outer").fillna(0).astype(int)
            coverage["present"] = (100.0 * coverage["models"] / coverage["of study"].where(
                coverage["of study"] > 0)).round(1).map(lambda v: "" if pd.isna(v) else "{:g}%".format(v))
    coverage.index.names = ["data set", "method"]
    section.table(coverage, "coverage", "Models and records per data set and method ({}{}).".format(
        records_lib.numbered(records.num_models, "model"), "; 'of study': the models the study defines"
        if study is not None else ""))
    scores = records.scores
    if scores.empty:
        section.note("No evaluation record has a score to plot; the figures of the metrics are skipped.")
    else:
        metrics = scores.groupby(["metric", "representation"])["model_id"].nunique().unstack("representation")
        metrics = metrics.fillna(0).astype(int)
        metrics.insert(0, "score key", [records.score_keys[m] for m in metrics.index])
        metrics.insert(0, "shown as", [main_scores.display_name(m) for m in metrics.index])
        metrics.index.name = "metric"
        section.table(metrics, "metrics", "Models with each metric per representation, and the result key "
                                          "plotted for it.")
    for note in records.notes:
        section.note(note)


def _study_model_nums(records, study):
    numbers = records.frame["model_num"].dropna()
    return set(int(n) for n in numbers.unique() if 0 <= n < study.num_models())


def _expected_models(study):
    """Models per (data set, method) that the study defines, or None when its sweep names neither."""
    configs = study.get_configs()
    rows = [(config.get("dataset.name"), config.get("model.name")) for config in configs]
    if not any(dataset is not None for dataset, _ in rows):
        return None
    frame = pd.DataFrame(rows, columns=["dataset", "method"]).fillna("unknown")
    return frame.groupby(["dataset", "method"]).size().rename("of study").to_frame()
