"""One score against every disentanglement metric, model by model: the scatter grid and the table of rank
correlations per data set that the unsupervised-score and fairness comparisons share."""
import numpy as np
import pandas as pd

from dlib_torch.visualize.report import main_scores
from dlib_torch.visualize.report import page as page_lib
from dlib_torch.visualize.report import plotting
from dlib_torch.visualize.report import records as records_lib


def disentanglement_metrics(records):
    """Metrics with scores that measure disentanglement (not TC, unfairness, accuracy or reconstruction)."""
    return [m for m in records.metrics() if main_scores.is_disentanglement(records.metric_function(m))]


def section_against_metrics(page, records, title, intro, metric_fn, keys, missing, name, caption):
    """A section of the page: the scores `keys` ({result key: label}) of the `metric_fn` records, model by model,
    against every disentanglement metric (`scatter_against_metrics`) on the default representation. `intro` and
    `missing` (the note when those records are absent) may name the representation as {representation}."""
    representation = records.default_representation()
    section = page.section(title, intro.format(representation=representation))
    frame = records.frame
    rows = (frame["metric_fn"] == metric_fn) & (frame["representation"] == representation)
    present = [k for k in keys if "evaluation_results." + k in frame.columns
               and frame.loc[rows, "evaluation_results." + k].notna().any()]
    if not rows.any() or not present:
        section.note(missing.format(representation=representation))
        return
    of_metric = frame.loc[rows, ["model_id", "dataset"] + ["evaluation_results." + k for k in present]]
    x_scores = of_metric.melt(id_vars=["model_id", "dataset"], var_name="key", value_name="value")
    x_scores["key"] = x_scores["key"].str[len("evaluation_results."):].map(keys)
    x_scores = x_scores.dropna(subset=["value"])
    scatter_against_metrics(page, section, x_scores, records, representation, name, caption)


def scatter_against_metrics(page, section, x_scores, records, representation, name, caption):
    """Scatter of each x score (rows; `x_scores`: model_id, dataset, key, value) against each disentanglement
    metric (columns) on `representation`; writes the figure and the Spearman table. Returns False (with a
    note) when there is nothing to compare."""
    metrics = disentanglement_metrics(records)
    table = records.score_table(representation, metrics).reset_index() if metrics else pd.DataFrame()
    if table.empty:
        section.note("No disentanglement metric has scores on the {} representation to compare with.".format(
            representation))
        return False
    keys = list(dict.fromkeys(x_scores["key"]))
    x_wide = x_scores.pivot_table(index="model_id", columns="key", values="value", aggfunc="first")
    joined = table.join(x_wide, on="model_id", how="inner")
    if joined.empty:
        section.note("No model has both scores.")
        return False
    datasets = sorted(joined["dataset"].unique())
    metrics = [m for m in metrics if m in joined.columns]
    figure, axes = page.new_figure(len(metrics), len(keys), width=2.4, height=2.2, wspace=0.75, hspace=0.8,
                                   bottom=0.7, top=0.4 + 0.18 * -(-len(datasets) // 7),
                                   min_width=min(len(datasets), 7) * page_lib.LEGEND_ENTRY_WIDTH)
    correlations = []
    for i, key in enumerate(keys):
        for j, metric in enumerate(metrics):
            ax = axes[i, j]
            for k, dataset in enumerate(datasets):
                points = joined[joined["dataset"] == dataset]
                ax.scatter(points[key], points[metric], s=5, alpha=0.5, color=plotting.color(k), label=dataset)
                correlations.append((dataset, key, metric, plotting.spearman(points[key], points[metric]),
                                     int(points[[key, metric]].dropna().shape[0])))
            overall = plotting.spearman(joined[key], joined[metric])
            ax.set_title("ρ = {}".format("n/a" if np.isnan(overall) else "{:.2f}".format(overall)), fontsize=8)
            ax.tick_params(labelsize=7)
            values = joined[key].dropna()
            if len(values) and values.min() > 0 and values.max() > 100 * values.min():
                plotting.log_scale(ax, values, "x")
            ax.set_xlabel(key, fontsize=7)
            ax.set_ylabel(main_scores.display_name(metric), fontsize=7)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    page.legend(figure, handles, labels, 7)
    num_models = joined["model_id"].nunique()
    section.figure(figure, name, "{}, from {} ({}; ρ: Spearman over all of them).".format(
        caption, records_lib.numbered(num_models, "model"), representation))
    frame = pd.DataFrame(correlations, columns=["dataset", "score", "metric", "spearman", "models"])
    wide = frame.pivot_table(index=["dataset", "score"], columns="metric", values="spearman", aggfunc="first")
    wide.columns = [main_scores.display_name(m) for m in wide.columns]
    wide.index.names = ["data set", "score"]
    section.table(wide, name, "Spearman rank correlation per data set between each score and each metric "
                  "(from {}).".format(records_lib.numbered(num_models, "model")), csv_frame=frame, index=True)
    return True
