"""Abstract visual reasoning (van Steenkiste et al., NeurIPS 2019): the table of each model type's best
validation and test accuracy, and the accuracy over training of the reasoning network, from the records of
step `abstract_reasoning` (keys `step<k>.val.accuracy`, `step<k>.test.accuracy`, `best.{val,test}.accuracy`,
under any namespace)."""
import re

import pandas as pd

from dlib_torch.visualize.report import plotting
from dlib_torch.visualize.report import page as page_lib
from dlib_torch.visualize.report import records as records_lib

STEP_KEY = re.compile(r"^(?:.*\.)?step(\d+)\.(val|test)\.accuracy$")
BEST_KEY = re.compile(r"^(?:.*\.)?best\.(val|test)\.accuracy$")


def curves(records):
    """Long table (model columns, representation, step, split, accuracy) of every step's accuracy."""
    frame = records.frame
    columns = {c: STEP_KEY.match(c) for c in frame.columns}
    columns = {c: (int(m.group(1)), m.group(2)) for c, m in columns.items() if m}
    if not columns:
        return pd.DataFrame()
    rows = frame[list(columns)].notna().any(axis=1)
    of_step = frame.loc[rows, records_lib.MODEL_COLUMNS + ["representation"] + list(columns)]
    long = of_step.melt(id_vars=records_lib.MODEL_COLUMNS + ["representation"], var_name="key",
                        value_name="accuracy").dropna(subset=["accuracy"])
    long["step"] = long["key"].map(lambda c: columns[c][0])
    long["split"] = long["key"].map(lambda c: columns[c][1])
    long["accuracy"] = pd.to_numeric(long["accuracy"], errors="coerce")
    return long.drop(columns="key")


def best(records):
    """One row per reasoning record with its best val/test accuracy (from best.* keys, else the best
    validation step and its test accuracy)."""
    frame = records.frame
    keys = {BEST_KEY.match(c).group(1): c for c in frame.columns if BEST_KEY.match(c)}
    if keys:
        rows = frame[list(keys.values())].notna().any(axis=1)
        result = frame.loc[rows, records_lib.MODEL_COLUMNS + ["representation"]].copy()
        for split, column in keys.items():
            result[split] = pd.to_numeric(frame.loc[rows, column], errors="coerce")
        return result
    long = curves(records)
    if long.empty:
        return long
    wide = long.pivot_table(index=["model_id", "representation", "step"], columns="split", values="accuracy",
                            aggfunc="first").reset_index()
    if "val" not in wide.columns:
        return pd.DataFrame()
    chosen = wide.loc[wide.groupby(["model_id", "representation"])["val"].idxmax()]
    models = long.drop_duplicates(["model_id", "representation"])[records_lib.MODEL_COLUMNS + ["representation"]]
    return models.merge(chosen.drop(columns="step"), on=["model_id", "representation"])


def add_to_page(page, records):
    section = page.section("Abstract reasoning",
                           "Accuracy of the abstract visual reasoning networks trained on each model's "
                           "representation (van Steenkiste et al. 2019).")
    long, top = curves(records), best(records)
    if long.empty and top.empty:
        section.note("No abstract_reasoning records (keys step<k>.val.accuracy, best.val.accuracy, ...); this "
                     "section is skipped.")
        return
    if not top.empty:
        splits = [s for s in ("val", "test") if s in top.columns]
        # One row per configuration (every training setting but the seed), named by its label.
        grouped = top.groupby(["dataset", "representation", "setting_label", "setting"], dropna=False)
        table = grouped[splits].agg(["mean", "std"])
        table.columns = ["{} accuracy {}".format(s, stat) for s, stat in table.columns]
        table.insert(0, "models", grouped["model_id"].nunique())
        table = table.droplevel("setting")
        shown = table[["models"]].copy()
        for s in splits:
            shown["best {} accuracy".format(s)] = [
                page_lib.mean_std(m, d) for m, d in zip(table["{} accuracy mean".format(s)], table["{} accuracy std".format(s)])]
        shown.index.names = ["data set", "representation", "model"]
        section.table(shown, "abstract_reasoning", "Best validation and test accuracy (mean ± std) per model type, "
                      "from {}.".format(records_lib.numbered(top["model_id"].nunique(), "model")),
                      csv_frame=table.reset_index())
    if not long.empty:
        _curves_figure(page, section, long)


def _curves_figure(page, section, long):
    datasets = sorted(long["dataset"].unique())
    columns, rows = plotting.grid(len(datasets), 3)
    figure, axes = page.new_figure(columns, rows, width=3.8, height=3.0, wspace=0.8, hspace=0.9, bottom=0.6)
    methods = sorted(long["method"].unique(), key=records_lib.method_sort_key)
    mean = long.groupby(["dataset", "method", "split", "step"])["accuracy"].mean().reset_index()
    for ax, dataset in zip(axes.ravel(), datasets):
        for k, method in enumerate(methods):
            for split, style in (("val", "-"), ("test", "--")):
                line = mean[(mean["dataset"] == dataset) & (mean["method"] == method) & (mean["split"] == split)]
                if len(line):
                    ax.plot(line["step"], line["accuracy"], style, color=plotting.color(k), marker=".",
                            label="{} ({})".format(records_lib.method_name(method), split))
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel("training step", fontsize=8)
        ax.set_ylabel("accuracy", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    plotting.hide_unused(axes, len(datasets))
    section.figure(figure, "abstract_reasoning_accuracy", "Accuracy over training of the reasoning networks "
                   "(solid: validation, dashed: test), mean over the models of each method, from {}.".format(
                       records_lib.numbered(long["model_id"].nunique(), "model")))
    section.data(mean, "abstract_reasoning_accuracy", "Mean accuracy per data set, method, split and step.")

