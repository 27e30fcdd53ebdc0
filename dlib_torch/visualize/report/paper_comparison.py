"""Our generalisation numbers beside Montero et al.'s (ICLR 2021): for every configuration of ours that the paper's
tables report (data set, held-out split, method and regulariser strength; `config/paper_results.py`), the training
and held-out NLL, their ratio and D, as mean ± std over the configuration's seeds, with its training length and
number of seeds, next to the paper's single runs. Configurations are never averaged together: each row is one
setting (every training setting but the seed), so a shortened run stands apart from one of the paper's length."""
import numpy as np
import pandas as pd

from dlib_torch.config import paper_results
from dlib_torch.visualize.report import generalisation
from dlib_torch.visualize.report import page as page_lib
from dlib_torch.visualize.report import records as records_lib

_EXTRA_KEYS = {"train_config.model.training_steps": "training_steps", "train_config.model.batch_size": "batch_size",
               "evaluation_results.num_train_combinations": "num_train_combinations",
               "evaluation_results.num_train_images": "num_train_images",
               "evaluation_results.num_test_images": "num_test_images"}


def comparison(records):
    """One row per configuration that the paper reports: our statistics over its seeds and the paper's numbers."""
    models = generalisation.model_results(records)
    if models.empty:
        return pd.DataFrame()
    frame = records.frame
    held_out = frame[frame["metric_fn"] == "held_out_reconstruction"].drop_duplicates("model_id", keep="last")
    extra = pd.DataFrame({"model_id": held_out["model_id"].to_numpy()})
    for key, column in _EXTRA_KEYS.items():
        extra[column] = pd.to_numeric(held_out[key], errors="coerce").to_numpy() if key in held_out.columns \
            else np.nan
    models = models.merge(extra, on="model_id", how="left")
    models["ratio"] = models["test_nll"] / models["train_nll"]
    rows = []
    for (dataset, split, _), group in models.groupby(["dataset", "split", "setting"], sort=False, dropna=False):
        first = group.iloc[0]
        paper = paper_results.lookup(dataset, split, first["method"], first["hyperparameter"])
        if paper is None:
            continue
        steps, batch, size = first["training_steps"], first["batch_size"], first["num_train_combinations"]
        rows.append({
            "dataset": dataset, "condition": first["condition"], "split": paper.split, "model": first["setting_label"],
            "method": first["method"], "hyperparameter": first["hyperparameter"], "seeds": group["model_id"].nunique(),
            "training_steps": steps, "epochs": steps * batch / size if size and size > 0 else np.nan,
            "train_images": first["num_train_images"], "held_out_images": first["num_test_images"],
            "train_nll_mean": group["train_nll"].mean(), "train_nll_std": group["train_nll"].std(),
            "test_nll_mean": group["test_nll"].mean(), "test_nll_std": group["test_nll"].std(),
            "ratio_mean": group["ratio"].mean(), "ratio_std": group["ratio"].std(),
            "d_mean": group["D"].mean(), "d_std": group["D"].std(), "d_key": first["d_key"],
            "paper_train_nll": paper.train_nll, "paper_test_nll": paper.test_nll,
            "paper_ratio": paper.test_nll / paper.train_nll, "paper_d": paper.disentanglement, "table": paper.table})
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows)
    return records_lib.sorted_rows(table, _order)


def _order(row):
    return (row["table"], row["dataset"]) + records_lib.configuration_sort_key(row, "model")


def add_to_page(page, records):
    section = page.section("Comparison with the paper's tables",
                           "Montero et al. (2021) report one run per model; ours are mean ± std over the seeds of "
                           "each configuration. NLL in nats per image (lower is better); held-out / train is the "
                           "ratio of the NLLs (per seed, then averaged); D is DCI disentanglement.")
    table = comparison(records)
    if table.empty:
        section.note("No held_out_reconstruction records of a data set, split and model that the paper reports "
                     "(dSprites or 3DShapes; {}); this section is skipped.".format(", ".join(
                         "{} {}".format(f, "/".join(s)) for f, s in paper_results.TABLE_SPLITS.items())))
        return table
    for (source, dataset), rows in table.groupby(["table", "dataset"], sort=False):
        section.table(shown(rows), records_lib.file_stem("paper_comparison", dataset), "{}: ours beside {}, per "
                      "condition and configuration, from {}; steps: the training length of each configuration "
                      "(epochs of its training combinations). {}.".format(
                          dataset, source, records_lib.numbered(int(rows["seeds"].sum()), "model"),
                          _d_note(rows)), csv_frame=rows)
    return table


def _d_note(rows):
    keys = sorted(set(rows["d_key"].dropna()))
    if not keys:
        return "No DCI records: our D is empty"
    return "Our D: DCI {} (the paper's: Lasso importances, `lasso_disentanglement`)".format(" / ".join(keys))


def shown(rows):
    """The page's layout: rows (condition, model), columns seeds, steps, then ours | paper for each number."""
    index = pd.MultiIndex.from_arrays([[records_lib.condition_name(c) for c in rows["condition"]], rows["model"]],
                                      names=["condition", "model"])
    columns = {("", "seeds"): rows["seeds"].astype(int).to_numpy(),
               ("", "steps"): [_steps(s, e) for s, e in zip(rows["training_steps"], rows["epochs"])]}
    for name, ours, paper in (("train NLL", "train_nll", "paper_train_nll"),
                              ("held-out NLL", "test_nll", "paper_test_nll"),
                              ("held-out / train", "ratio", "paper_ratio"), ("D", "d", "paper_d")):
        columns[(name, "ours")] = [page_lib.mean_std(m, s) for m, s in zip(rows[ours + "_mean"], rows[ours + "_std"])]
        columns[(name, "paper")] = [page_lib.mean_std(v, np.nan) for v in rows[paper]]
    return pd.DataFrame(columns, index=index)


def _steps(steps, epochs):
    if steps != steps:
        return "–"
    return "{:,}".format(int(steps)) + (" ({:.2g} ep.)".format(epochs) if epochs == epochs else "")
