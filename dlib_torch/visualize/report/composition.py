"""Composition (Montero et al. 2021, Sec. 5): per data set and condition, each configuration's negative
log-likelihood on the training and on the held-out compositions (mean ± std over its seeds), from the records of
metric `composition_reconstruction`. The page shows the NLLs, their ratio and where the held-out commands came from;
the CSV holds every number the metric records."""
import pandas as pd

from dlib_torch.visualize.report import page as page_lib
from dlib_torch.visualize.report import records as records_lib
from dlib_torch.visualize.report import settings

METRIC = "composition_reconstruction"
COMMANDS_KEY = "held_out_commands_from_training"


def add_to_page(page, records):
    section = page.section("Composition", "The composition task: how well each model's transformed outputs match "
                                          "the targets on training and on held-out compositions.")
    frame = records.frame
    rows = frame[(frame["metric_fn"] == METRIC) | (frame["metric"] == METRIC)]
    if rows.empty:
        section.note("No {} records; this section is skipped.".format(METRIC))
        return
    keys = [c[len("evaluation_results."):] for c in frame.columns if c.startswith("evaluation_results.")
            and rows[c].notna().any() and not _ignored(c[len("evaluation_results."):])]
    values = rows[records_lib.MODEL_COLUMNS].copy()
    for key in keys:
        values[key] = pd.to_numeric(rows["evaluation_results." + key], errors="coerce")
    keys = [k for k in keys if values[k].notna().any()]
    keys.sort(key=lambda k: ("nll" not in k, "gap" in k, "train" not in k, k))  # train NLL, held-out NLL, gap
    if not keys:
        section.note("The {} records hold no numbers.".format(METRIC))
        return
    # A configuration is every training and evaluation setting but the seeds.
    values["setting"], values["setting_label"] = settings.setting_columns(
        rows.assign(model_label=rows["setting_label"]), ("train_config.", "evaluation_config."), unit=None)
    values["condition"] = values["condition"].fillna("no split")
    stats = summary(values, keys)
    for dataset, of_dataset in stats.groupby("dataset", sort=True):
        section.table(_shown(of_dataset), records_lib.file_stem("composition", dataset),
                      "{}: NLL (nats per image) of the composed images on training and on held-out compositions per "
                      "condition and configuration (mean ± std over seeds), from {}; the CSV has every number of "
                      "{}.".format(dataset, records_lib.numbered(int(of_dataset["models"].sum()), "model"), METRIC),
                      csv_frame=of_dataset)


def summary(values, keys):
    """Mean and std of each key per data set, condition and configuration, in the papers' order."""
    grouped = values.groupby(["dataset", "condition", "setting"], dropna=False)
    stats = grouped[keys].agg(["mean", "std"])
    stats.columns = ["{} {}".format(k, stat) for k, stat in stats.columns]
    described = grouped.agg(model=("setting_label", "first"), method=("method", "first"),
                            hyperparameter=("hyperparameter", "first"), models=("model_id", "nunique"))
    stats = described.join(stats).reset_index()
    return records_lib.sorted_rows(stats, _order)


def _order(row):
    return records_lib.configuration_sort_key(row, "model")


def _shown(stats):
    """The page's columns: models, train NLL, held-out NLL, their ratio, and where the held-out commands came from."""
    shown = pd.DataFrame({"models": stats["models"].to_numpy()},
                         index=pd.MultiIndex.from_arrays([[records_lib.condition_name(c) for c in stats["condition"]],
                                                          stats["model"]], names=["condition", "model"]))
    for key, column in (("train_nll", "train NLL"), ("test_nll", "held-out NLL")):
        if key + " mean" in stats.columns:
            shown[column] = [page_lib.mean_std(m, s) for m, s in zip(stats[key + " mean"], stats[key + " std"])]
    if {"train_nll mean", "test_nll mean"} <= set(stats.columns):
        shown["held-out / train"] = ["{:.2f}".format(t / r) if r > 0 else "–"
                                     for t, r in zip(stats["test_nll mean"], stats["train_nll mean"])]
    if COMMANDS_KEY + " mean" in stats.columns:
        shown["held-out commands"] = [_commands(v) for v in stats[COMMANDS_KEY + " mean"]]
    return shown


def _commands(fraction):
    if fraction != fraction:
        return "–"
    return {1.0: "training", 0.0: "whole grid"}.get(float(fraction), "mixed")


def _ignored(key):
    return key.endswith(records_lib.IGNORED_RESULT_KEYS) or key.startswith("num_")
