"""The effect of the regulariser strength on each metric: the median score (and its interquartile band) per
value of each method's hyper-parameter, one line per data set (Locatello et al. 2019, Fig. 7)."""
import pandas as pd

from dlib_torch.visualize.report import main_scores
from dlib_torch.visualize.report import page as page_lib
from dlib_torch.visualize.report import plotting
from dlib_torch.visualize.report import records as records_lib


def add_to_page(page, records):
    representation = records.default_representation()
    section = page.section("Effect of the regulariser strength",
                           "Median score (line) and interquartile range (band) per value of each method's "
                           "regulariser, per data set ({} representation).".format(representation))
    scores = records.scores[(records.scores["representation"] == representation)
                            & records.scores["hyperparameter"].notna()]
    if scores.empty:
        section.note("No model records a regulariser strength (vae.beta, factor_vae.gamma, dip_vae.lambda_od, "
                     "beta_tc_vae.beta, annealed_vae.c_max); this figure is skipped.")
        return
    summary = median_by_strength(scores)
    metrics = sorted(summary["metric"].unique(), key=main_scores.metric_sort_key)
    methods = sorted(summary["method"].unique(), key=records_lib.method_sort_key)
    datasets = sorted(summary["dataset"].unique())
    figure, axes = page.new_figure(len(methods), len(metrics), width=2.6, height=1.9, wspace=0.6, hspace=0.45,
                                   bottom=0.7, top=0.6 + 0.18 * -(-len(datasets) // 7),
                                   min_width=min(len(datasets), 7) * page_lib.LEGEND_ENTRY_WIDTH)
    for j, method in enumerate(methods):
        of_method = summary[summary["method"] == method]
        values = sorted(of_method["hyperparameter"].unique())
        position = {v: k for k, v in enumerate(values)}
        symbol = scores.loc[scores["method"] == method, "hyperparameter_symbol"].dropna()
        symbol = symbol.iloc[0] if len(symbol) else "h"
        for i, metric in enumerate(metrics):
            ax = axes[i, j]
            for k, dataset in enumerate(datasets):
                line = of_method[(of_method["metric"] == metric) & (of_method["dataset"] == dataset)]
                if line.empty:
                    continue
                x = line["hyperparameter"].map(position).to_numpy()
                ax.plot(x, line["median"], "o-", color=plotting.color(k), markersize=3, label=dataset)
                ax.fill_between(x, line["q25"], line["q75"], color=plotting.color(k), alpha=0.15)
            ax.set_xticks(range(len(values)))
            ax.set_xticklabels(["{:g}".format(v) for v in values], fontsize=7)
            ax.tick_params(axis="y", labelsize=7)
            if i == len(metrics) - 1:
                ax.set_xlabel("{} of {}".format(symbol, records_lib.method_name(method)), fontsize=8)
            if i == 0:
                ax.set_title(records_lib.method_name(method), fontsize=9)
            if j == 0:
                ax.set_ylabel(main_scores.display_name(metric), fontsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if not handles:
        for ax in axes.ravel():
            handles, labels = ax.get_legend_handles_labels()
            if handles:
                break
    page.legend(figure, handles, labels, 7)
    section.figure(figure, "regularisation_strength", "Median score per regulariser strength: rows are metrics, "
                   "columns methods, lines data sets, from {} ({}).".format(
                       records_lib.numbered(scores["model_id"].nunique(), "model"), representation))
    section.data(summary, "regularisation_strength", "Median, quartiles and count of every (data set, metric, "
                                                     "method, strength) group.")


def median_by_strength(scores):
    """Median and quartiles of each (data set, metric, method, hyper-parameter) group."""
    grouped = scores.groupby(["dataset", "metric", "method", "hyperparameter"])["value"]
    return pd.DataFrame({"median": grouped.median(), "q25": grouped.quantile(0.25), "q75": grouped.quantile(0.75),
                         "count": grouped.size()}).reset_index()
