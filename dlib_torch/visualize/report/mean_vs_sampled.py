"""Mean versus sampled representation: each model's score with the one against the other, per metric
(Locatello et al. 2019, Fig. 1 for the total correlation), and the table of their differences."""
import numpy as np
import pandas as pd

from dlib_torch.visualize.report import main_scores
from dlib_torch.visualize.report import page as page_lib
from dlib_torch.visualize.report import plotting
from dlib_torch.visualize.report import records as records_lib


def add_to_page(page, records):
    section = page.section("Mean vs sampled representation",
                           "Each model's score on the sampled representation (a draw from the encoder's "
                           "posterior) against its score on the mean representation, per metric; points above "
                           "the diagonal score higher when sampled.")
    scores = records.scores[records.scores["representation"].isin(["mean", "sampled"])]
    paired = scores.pivot_table(index=["model_id", "dataset", "metric"], columns="representation", values="value",
                                aggfunc="first", observed=True)
    if not {"mean", "sampled"} <= set(paired.columns):
        section.note("Needs records of both the mean and the sampled representation; the records have {}.".format(
            ", ".join(records.representations()) or "none"))
        return
    paired = paired[["mean", "sampled"]].dropna().reset_index()
    if paired.empty:
        section.note("No model has the same metric on both representations.")
        return
    metrics = sorted(paired["metric"].unique(), key=main_scores.metric_sort_key)
    datasets = sorted(paired["dataset"].unique())
    columns, rows = plotting.grid(len(metrics), 5)
    figure, axes = page.new_figure(columns, rows, width=2.6, height=2.6, wspace=0.8, hspace=0.8, bottom=0.6,
                                   top=0.4 + 0.18 * -(-len(datasets) // 7),
                                   min_width=min(len(datasets), 7) * page_lib.LEGEND_ENTRY_WIDTH)
    for ax, metric in zip(axes.ravel(), metrics):
        of_metric = paired[paired["metric"] == metric]
        for k, dataset in enumerate(datasets):
            points = of_metric[of_metric["dataset"] == dataset]
            ax.scatter(points["mean"], points["sampled"], s=6, alpha=0.5, color=plotting.color(k), label=dataset)
        low = np.nanmin(of_metric[["mean", "sampled"]].to_numpy())
        high = np.nanmax(of_metric[["mean", "sampled"]].to_numpy())
        ax.plot([low, high], [low, high], "k--", linewidth=0.8)
        if low > 0 and high > 100 * low:  # heavy-tailed scores (the total correlation): log axes
            plotting.log_scale(ax, [low, high], "x")
            plotting.log_scale(ax, [low, high], "y")
        ax.set_title(main_scores.display_name(metric), fontsize=9)
        ax.set_xlabel("mean", fontsize=8)
        ax.set_ylabel("sampled", fontsize=8)
        ax.tick_params(labelsize=7)
    plotting.hide_unused(axes, len(metrics))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    page.legend(figure, handles, labels, 7)
    num_models = paired["model_id"].nunique()
    section.figure(figure, "mean_vs_sampled", "Score on the sampled vs the mean representation, per metric, from "
                   "{} (colours: data sets).".format(records_lib.numbered(num_models, "model")))
    paired["difference"] = paired["sampled"] - paired["mean"]
    grouped = paired.groupby(["dataset", "metric"])
    table = pd.DataFrame({
        "models": grouped.size(),
        "median (mean)": grouped["mean"].median(),
        "median (sampled)": grouped["sampled"].median(),
        "median difference": grouped["difference"].median(),
        "sampled higher": grouped["difference"].apply(lambda d: "{:.0f}%".format(100.0 * (d > 0).mean())),
    })
    table["rank correlation"] = [plotting.spearman(g["mean"], g["sampled"]) for _, g in grouped]
    table.index.names = ["data set", "metric"]
    section.table(table, "mean_vs_sampled", "Per data set and metric: medians on each representation, the median "
                  "difference (sampled - mean), how often sampled is higher, and the Spearman correlation between "
                  "the two, from {}.".format(records_lib.numbered(num_models, "model")))
