"""Score distributions per method (violins, one panel per metric and data set), and per method and
hyper-parameter value (boxes, one figure per data set), as Locatello et al. (2019) Figs. 4-5 and 7 show them."""
import numpy as np

from dlib_torch.visualize.report import main_scores
from dlib_torch.visualize.report import plotting
from dlib_torch.visualize.report import records as records_lib


def add_to_page(page, records):
    representation = records.default_representation()
    section = page.section("Score distributions",
                           "Each metric's main score over the models of each method (violins: the density of the "
                           "scores, the bar their median), and per value of the method's regulariser "
                           "({} representation).".format(representation))
    scores = records.scores[records.scores["representation"] == representation]
    if scores.empty:
        section.note("No scores to show.")
        return
    _by_method(page, section, scores, representation)
    _by_hyperparameter(page, section, scores, representation)
    summary = scores.groupby(["dataset", "metric", "method"])["value"].describe()[
        ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]]
    summary["count"] = summary["count"].astype(int)
    section.data(summary.reset_index(), "score_distributions",
                 "Per data set, metric and method: count, mean, std and quantiles of the scores.")


def _by_method(page, section, scores, representation):
    metrics = sorted(scores["metric"].unique(), key=main_scores.metric_sort_key)
    datasets = sorted(scores["dataset"].unique())
    methods = sorted(scores["method"].unique(), key=records_lib.method_sort_key)
    figure, axes = page.new_figure(len(datasets), len(metrics), width=3.2, height=2.6)
    grouped = {key: group["value"].to_numpy() for key, group in scores.groupby(["metric", "dataset", "method"])}
    for i, metric in enumerate(metrics):
        for j, dataset in enumerate(datasets):
            ax = axes[i, j]
            groups = [grouped.get((metric, dataset, m), np.empty(0)) for m in methods]
            plotting.distributions(ax, groups, [records_lib.method_name(m) for m in methods])
            if i == 0:
                ax.set_title(dataset, fontsize=9)
            if j == 0:
                ax.set_ylabel(main_scores.display_name(metric), fontsize=8)
    figure.tight_layout()
    section.figure(figure, "score_by_method", "Scores per method: rows are metrics, columns data sets, from {} "
                   "({}).".format(records_lib.numbered(scores["model_id"].nunique(), "model"), representation))


def _by_hyperparameter(page, section, scores, representation):
    scores = scores[scores["hyperparameter"].notna()]
    if scores.empty:
        section.note("No model records a regulariser strength (vae.beta, factor_vae.gamma, ...); the plots per "
                     "hyper-parameter are skipped.")
        return
    metrics = sorted(scores["metric"].unique(), key=main_scores.metric_sort_key)
    methods = sorted(scores["method"].unique(), key=records_lib.method_sort_key)
    for dataset, of_dataset in scores.groupby("dataset", sort=True):
        figure, axes = page.new_figure(len(methods), len(metrics), width=3.0, height=2.4)
        grouped = {key: group["value"].to_numpy()
                   for key, group in of_dataset.groupby(["metric", "method", "hyperparameter"])}
        for j, method in enumerate(methods):
            values = sorted(of_dataset.loc[of_dataset["method"] == method, "hyperparameter"].unique())
            for i, metric in enumerate(metrics):
                ax = axes[i, j]
                groups = [grouped.get((metric, method, v), np.empty(0)) for v in values]
                symbol = _symbol(of_dataset, method)
                plotting.distributions(ax, groups, ["{}={:g}".format(symbol, v) for v in values], kind="box")
                if i == 0:
                    ax.set_title(records_lib.method_name(method), fontsize=9)
                if j == 0:
                    ax.set_ylabel(main_scores.display_name(metric), fontsize=8)
        figure.tight_layout()
        section.figure(figure, records_lib.file_stem("score_by_hyperparameter", dataset),
                       "{}: scores per method (columns) and regulariser strength, per metric (rows), from {} "
                       "({}).".format(dataset, records_lib.numbered(of_dataset["model_id"].nunique(), "model"),
                                      representation))


def _symbol(scores, method):
    symbols = scores.loc[scores["method"] == method, "hyperparameter_symbol"].dropna()
    return symbols.iloc[0] if len(symbols) else "h"

