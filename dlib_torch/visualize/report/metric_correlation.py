"""Rank correlation between every pair of metrics, one heatmap per data set (Locatello et al. 2019, Fig. 2)."""
import numpy as np
import pandas as pd

from dlib_torch.visualize.report import main_scores
from dlib_torch.visualize.report import plotting
from dlib_torch.visualize.report import records as records_lib


MIN_MODELS = 3


def add_to_page(page, records):
    representation = records.default_representation()
    section = page.section("Rank correlation between metrics",
                           "Spearman rank correlation (x100) between the main scores of every pair of metrics, "
                           "over the models of each data set ({} representation).".format(representation))
    table = records.score_table(representation) if representation else pd.DataFrame()
    if table.shape[1] < 2:
        section.note("Needs at least two metrics with scores; the records have {}.".format(table.shape[1]))
        return
    counts = table.groupby(level="dataset").size()
    datasets = sorted(counts.index[counts >= MIN_MODELS])
    if len(datasets) < len(counts):
        section.note("Rank correlations need at least {} models of a data set; {} {} fewer.".format(
            MIN_MODELS, ", ".join(sorted(counts.index[counts < MIN_MODELS])),
            "has" if (counts < MIN_MODELS).sum() == 1 else "have"))
    if not datasets:
        return
    columns, rows = plotting.grid(len(datasets), 3)
    side = min(3.6, max(1.4, 0.4 * table.shape[1]))  # cells of about 0.4 inch
    figure, axes = page.new_figure(columns, rows, width=side, height=side, left=1.5, bottom=1.5, wspace=1.7,
                                   hspace=1.8)
    long_rows, num_models = [], 0
    for ax, dataset in zip(axes.ravel(), datasets):
        scores = table.xs(dataset, level="dataset").dropna(axis=1, how="all")
        metrics = list(scores.columns)
        correlation = scores.corr(method="spearman", min_periods=MIN_MODELS).to_numpy() if len(metrics) >= 2 else \
            np.full((len(metrics), len(metrics)), np.nan)
        names = [main_scores.display_name(m) for m in metrics]
        plotting.heatmap(ax, correlation, names, names)
        ax.set_title("{} ({})".format(dataset, records_lib.numbered(len(scores), "model")), fontsize=9)
        num_models += len(scores)
        for i, a in enumerate(metrics):
            for j, b in enumerate(metrics):
                pairs = int(scores[[a, b]].dropna().shape[0])
                long_rows.append((dataset, a, b, correlation[i, j], pairs))
    plotting.hide_unused(axes, len(datasets))
    section.figure(figure, "rank_correlation", "Spearman rank correlation between metrics, per data set, from {} "
                   "({}).".format(records_lib.numbered(num_models, "model"), representation))
    section.data(pd.DataFrame(long_rows, columns=["dataset", "metric_a", "metric_b", "spearman", "num_models"]),
                 "rank_correlation", "The correlations and the number of models behind each.")
