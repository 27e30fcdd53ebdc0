"""Generalisation to held-out combinations (Montero et al., ICLR 2021): per data set, the table of training NLL,
held-out NLL and disentanglement D of each model under each condition (the paper's layout, mean ± std over the
seeds of each configuration), and the NLL-vs-disentanglement scatter with a line from each model's training to its
held-out NLL."""
from matplotlib.lines import Line2D
import numpy as np
import pandas as pd

from dlib_torch.visualize.report import plotting
from dlib_torch.visualize.report import page as page_lib
from dlib_torch.visualize.report import records as records_lib

# The paper's D: DCI disentanglement from Lasso importances (dci.paper_variant); the reference's DCI otherwise.
D_KEYS = ["lasso_disentanglement", "disentanglement"]
COLUMNS = ["train NLL", "held-out NLL", "D"]


def model_results(records):
    """One row per model with held_out_reconstruction records: its model columns, train_nll, test_nll, D and
    d_key (which DCI key D is), and its record path. D is NaN without a DCI record."""
    frame = records.frame
    held_out = _one_per_model(frame[frame["metric_fn"] == "held_out_reconstruction"])
    if held_out.empty:
        return held_out
    columns = records_lib.MODEL_COLUMNS + ["path"] * ("path" in frame.columns) + \
        ["postprocess_results.model_dir"] * ("postprocess_results.model_dir" in frame.columns)
    result = held_out[columns].copy()
    for side in ("train", "test"):
        column = "evaluation_results.{}_nll".format(side)
        result[side + "_nll"] = pd.to_numeric(held_out[column], errors="coerce") if column in held_out.columns \
            else np.nan
    dci = _one_per_model(frame[frame["metric_fn"] == "dci"])
    d_value = pd.Series(np.nan, index=dci.index)
    d_key = pd.Series(None, index=dci.index, dtype=object)
    for key in reversed(D_KEYS):  # the paper's key wins where present
        if "evaluation_results." + key in dci.columns:
            values = pd.to_numeric(dci["evaluation_results." + key], errors="coerce")
            d_key = d_key.where(values.isna(), key)
            d_value = d_value.where(values.isna(), values)
    d = pd.DataFrame({"D": d_value.to_numpy(), "d_key": d_key.to_numpy()}, index=dci["model_id"].to_numpy())
    result = result.join(d, on="model_id")
    return result.reset_index(drop=True)


def _one_per_model(rows):
    """The rows of one metric, one per model: the mean representation's record first, then the last one."""
    if rows.empty:
        return rows
    order = (rows["representation"] != "mean").astype(int)
    return rows.assign(_order=order).sort_values("_order", kind="stable").drop_duplicates("model_id").drop(
        columns="_order")


def summary(models):
    """Mean, std and count of train NLL, held-out NLL and D per data set, condition and configuration (every
    training setting but the seed: `setting`; `model_label` names it)."""
    grouped = models.groupby(["dataset", "condition", "setting"], dropna=False)
    result = grouped.agg(model_label=("setting_label", "first"), split=("split", "first"), method=("method", "first"),
                         hyperparameter=("hyperparameter", "first"), models=("model_id", "nunique"),
                         train_nll_mean=("train_nll", "mean"), train_nll_std=("train_nll", "std"),
                         test_nll_mean=("test_nll", "mean"), test_nll_std=("test_nll", "std"),
                         d_mean=("D", "mean"), d_std=("D", "std"), d_key=("d_key", "first")).reset_index()
    return records_lib.sorted_rows(result, _row_order)


def _row_order(row):
    return (row["dataset"],) + records_lib.configuration_sort_key(row, "model_label")


def add_to_page(page, records):
    section = page.section("Generalisation to held-out combinations",
                           "Montero et al. (2021): reconstruction NLL (nats per image, lower is better) on the "
                           "training combinations and on the held-out ones, and the disentanglement D of each "
                           "model, per data set and held-out condition (mean ± std over seeds).")
    models = model_results(records)
    if models.empty:
        section.note("No held_out_reconstruction records; the generalisation tables and figures are skipped.")
        return models
    models = models.assign(condition=models["condition"].fillna("no split"))
    table = summary(models)
    if models["D"].isna().all():
        section.note("No DCI records for these models: the D column is empty and the NLL-vs-disentanglement "
                     "figure is skipped.")
    for dataset, of_dataset in table.groupby("dataset", sort=True):
        section.table(_paper_layout(of_dataset), records_lib.file_stem("generalisation", dataset),
                      "{}: train NLL, held-out NLL and D ({}) per model and condition, from {}.".format(
                          dataset, _d_description(of_dataset), records_lib.numbered(
                              int(of_dataset["models"].sum()), "model")),
                      csv_frame=of_dataset)
    if models["D"].notna().any():
        _scatter(page, section, table, models)
    return models


def _d_description(table):
    keys = sorted(set(table["d_key"].dropna()))
    return "DCI " + " / ".join(keys) if keys else "no DCI records"


def _paper_layout(table):
    """Rows: models; columns: (condition, train NLL / held-out NLL / D), cells 'mean ± std'."""
    cells = {}
    conditions = sorted(table["condition"].unique(), key=records_lib.condition_sort_key)
    labels = list(dict.fromkeys(table["model_label"]))
    for _, row in table.iterrows():
        name = records_lib.condition_name(row["condition"])
        for column, prefix in zip(COLUMNS, ["train_nll", "test_nll", "d"]):
            cells[(row["model_label"], name, column)] = page_lib.mean_std(row[prefix + "_mean"], row[prefix + "_std"])
    columns = pd.MultiIndex.from_tuples([(records_lib.condition_name(c), column) for c in conditions
                                         for column in COLUMNS])
    layout = pd.DataFrame([[cells.get((label,) + column, "") for column in columns] for label in labels],
                          index=pd.Index(labels, name="model"), columns=columns)
    return layout


def _scatter(page, section, table, models):
    datasets = sorted(table["dataset"].unique())
    conditions = sorted(table["condition"].unique(), key=records_lib.condition_sort_key)
    labels = list(dict.fromkeys(table["model_label"]))
    figure, axes = page.new_figure(len(conditions), len(datasets), width=3.2, height=2.8, wspace=0.9, hspace=0.7, bottom=0.6,
                                   top=0.5 + 0.18 * -(-(len(labels) + 2) // 4),
                                   min_width=4 * page_lib.LEGEND_ENTRY_WIDTH)
    for i, dataset in enumerate(datasets):
        for j, condition in enumerate(conditions):
            ax = axes[i, j]
            cell = table[(table["dataset"] == dataset) & (table["condition"] == condition)]
            for _, row in cell.iterrows():
                c = plotting.color(labels.index(row["model_label"]))
                x = row["d_mean"]
                ax.plot([x, x], [row["train_nll_mean"], row["test_nll_mean"]], "-", color=c, linewidth=1)
                ax.plot(x, row["train_nll_mean"], "o", color=c, markersize=5, label=row["model_label"])
                ax.plot(x, row["test_nll_mean"], "x", color=c, markersize=6)
            if len(cell) and (cell[["train_nll_mean", "test_nll_mean"]] > 0).all().all():
                plotting.log_scale(ax, cell[["train_nll_mean", "test_nll_mean"]].to_numpy(), "y")
            ax.set_title("{} · {}".format(dataset, records_lib.condition_name(condition)), fontsize=8)
            ax.set_xlabel("D", fontsize=8)
            ax.set_ylabel("NLL (nats)", fontsize=8)
            ax.tick_params(labelsize=7)
    handles, names = {}, []
    for ax in axes.ravel():
        for handle, name in zip(*ax.get_legend_handles_labels()):
            if name not in handles:
                handles[name] = handle
                names.append(name)
    for marker, name in (("o", "training combinations"), ("x", "held-out combinations")):
        handles[name] = Line2D([], [], color="black", marker=marker, linestyle="")
        names.append(name)
    page.legend(figure, [handles[n] for n in names], names, 4)
    section.figure(figure, "generalisation_nll_vs_disentanglement",
                   "NLL against disentanglement: for each model (colour) its training NLL (o) joined to its "
                   "held-out NLL (x), mean over seeds, from {}.".format(
                       records_lib.numbered(models["model_id"].nunique(), "model")))
