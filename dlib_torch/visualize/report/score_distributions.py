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
    figure, axes = page.new_figure(len(datasets), len(metrics), width=2.6, height=2.0, wspace=0.5, hspace=1.0,
                                   bottom=1.0)
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
    section.figure(figure, "score_by_method", "Scores per method: rows are metrics, columns data sets, from {} "
                   "({}).".format(records_lib.numbered(scores["model_id"].nunique(), "model"), representation))


def _by_hyperparameter(page, section, scores, representation):
    """Boxes per (method, regulariser strength), grouped by method, strength growing left to right."""
    scores = scores[scores["hyperparameter"].notna()]
    if scores.empty:
        section.note("No model records a regulariser strength (vae.beta, factor_vae.gamma, ...); the plots per "
                     "hyper-parameter are skipped.")
        return
    metrics = sorted(scores["metric"].unique(), key=main_scores.metric_sort_key)
    datasets = sorted(scores["dataset"].unique())
    methods = sorted(scores["method"].unique(), key=records_lib.method_sort_key)
    strengths = {m: sorted(scores.loc[scores["method"] == m, "hyperparameter"].unique()) for m in methods}
    slots, positions, centres, colors = [], [], [], []
    for k, method in enumerate(methods):  # one slot per (method, strength), a gap of one between methods
        start = len(slots) + k
        slots += [(method, value) for value in strengths[method]]
        positions += [start + n for n in range(len(strengths[method]))]
        centres.append(start + (len(strengths[method]) - 1) / 2)
        colors += [plotting.color(k)] * len(strengths[method])
    grouped = {key: group["value"].to_numpy()
               for key, group in scores.groupby(["metric", "dataset", "method", "hyperparameter"])}
    figure, axes = page.new_figure(len(datasets), len(metrics), width=3.4, height=2.0, wspace=0.5, hspace=1.0,
                                   bottom=1.0)
    for i, metric in enumerate(metrics):
        for j, dataset in enumerate(datasets):
            ax = axes[i, j]
            plotting.boxes(ax, [grouped.get((metric, dataset) + slot, np.empty(0)) for slot in slots], positions,
                           colors)
            ax.set_xticks(centres)
            ax.set_xticklabels([records_lib.method_name(m) for m in methods], rotation=45, ha="right", fontsize=7)
            ax.tick_params(axis="y", labelsize=7)
            if i == 0:
                ax.set_title(dataset, fontsize=9)
            if j == 0:
                ax.set_ylabel(main_scores.display_name(metric), fontsize=8)
    section.figure(figure, "score_by_hyperparameter", "Scores per method and regulariser strength (boxes: "
                   "quartiles and 1.5 IQR whiskers; within a method the strength grows left to right, values in "
                   "the CSV): rows are metrics, columns data sets, from {} ({}).".format(
                       records_lib.numbered(scores["model_id"].nunique(), "model"), representation))
