"""Example reconstructions of training and held-out combinations, per model: the `held_out/train_vs_held_out.png`
panel that dtl_visualize drew for one model (the lowest model number) of each data set, condition and configuration,
in the papers' order, copied beside the page so that it stays self-contained and shown at its own size."""
import os

import numpy as np
import pandas as pd

from dlib_torch.visualize.report import records as records_lib

PANEL = os.path.join("visualizations", "held_out", "train_vs_held_out.png")


def panel_path(row):
    """The held-out panel of a model's record row, or None: looked for beside the record's path, then beside
    the model directory the records name (`postprocess_results.model_dir`)."""
    candidates = [records_lib.model_directory(row.get("path"))]
    model_dir = row.get("postprocess_results.model_dir")
    if isinstance(model_dir, str) and model_dir:
        model_dir = model_dir.strip("'\"")
        candidates.append(os.path.dirname(os.path.normpath(model_dir)))
    for directory in candidates:
        if directory and os.path.isfile(os.path.join(directory, PANEL)):
            return os.path.join(directory, PANEL)
    return None


def add_to_page(page, models, max_examples):
    """`models`: generalisation.model_results (one row per model); at most `max_examples` panels are copied."""
    section = page.section("Example reconstructions",
                           "Training (left) and held-out (right) combinations beside their reconstructions, for "
                           "one model of each data set, condition and configuration (dtl_visualize's held-out panel).")
    if models is None or models.empty:
        section.note("No held_out_reconstruction records, so no models to show reconstructions of.")
        return
    groups = records_lib.sorted_rows(models, _order).groupby(["dataset", "condition", "setting"], sort=False, dropna=False)
    shown, missing = 0, 0
    current = None
    images = []
    for (dataset, condition, _), rows in groups:
        label = rows["setting_label"].iloc[0]
        path = next((p for p in (panel_path(row) for _, row in rows.iterrows()) if p), None)
        if path is None:
            missing += 1
            continue
        if shown >= max_examples:
            continue
        if current != (dataset, condition):
            if images:
                section.gallery(images)
                images = []
            section.heading("{} · {}".format(dataset, records_lib.condition_name(condition)))
            current = (dataset, condition)
        model_num = rows["model_num"].iloc[0]
        name = records_lib.file_stem(dataset, condition, label, "model", _integer(model_num))
        relative = page.copy_file(path, os.path.join("reconstructions", name + ".png"))
        images.append((relative, "{} (model {})".format(label, _integer(model_num))))
        shown += 1
    if images:
        section.gallery(images)
    total = shown + missing
    if shown < total:
        section.note("{} of {} configurations have a panel shown{}{}.".format(
            shown, total, "; {} have no {} beside their records (run dtl_visualize, or keep the record paths "
                          "of dtl_aggregate)".format(missing, PANEL) if missing else "",
            "; at most {} are copied (--max_reconstructions)".format(max_examples)
            if total - missing > max_examples else ""))


def _order(row):
    """The papers' order: data set, condition, method, regulariser strength, then model number."""
    number = row["model_num"] if pd.notna(row["model_num"]) else np.inf
    return (row["dataset"],) + records_lib.configuration_sort_key(row, "setting_label") + (number,)


def _integer(value):
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return "unknown"
