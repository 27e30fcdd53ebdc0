"""Composition (Montero et al. 2021, Sec. 5): per data set and condition, each model's scores on the training
and held-out compositions (mean ± std over seeds), from the records of metric `composition_reconstruction`:
every number it records, the negative log-likelihoods first."""
import pandas as pd

from dlib_torch.visualize.report import page as page_lib
from dlib_torch.visualize.report import records as records_lib

METRIC = "composition_reconstruction"


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
    values["condition"] = values["condition"].fillna("no split")
    grouped = values.groupby(["dataset", "condition", "model_label"], dropna=False)
    stats = grouped[keys].agg(["mean", "std"])
    stats.columns = ["{} {}".format(k, stat) for k, stat in stats.columns]
    stats.insert(0, "models", grouped["model_id"].nunique())
    for dataset, of_dataset in stats.groupby(level="dataset"):
        shown = of_dataset[["models"]].copy()
        for key in keys:
            shown[key] = [page_lib.mean_std(m, s) for m, s in zip(of_dataset[key + " mean"], of_dataset[key + " std"])]
        shown = shown.droplevel("dataset")
        shown.index = pd.MultiIndex.from_tuples([(records_lib.condition_name(c), m) for c, m in shown.index],
                                                names=["condition", "model"])
        section.table(shown, records_lib.file_stem("composition", dataset), "{}: {} per condition and model (mean ± "
                      "std over seeds), from {}.".format(dataset, METRIC, records_lib.numbered(
                          int(of_dataset["models"].sum()), "model")), csv_frame=of_dataset.reset_index())


def _ignored(key):
    return key.endswith(records_lib.IGNORED_RESULT_KEYS) or key.startswith("num_")

