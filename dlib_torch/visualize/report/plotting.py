"""Drawing helpers the figure families share: colours, distributions that tolerate tiny groups, heatmaps."""
import numpy as np

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf"]


def color(index):
    return COLORS[index % len(COLORS)]


def distributions(ax, groups, labels, kind="violin"):
    """Violins (or boxes) of each group of values at x = 0, 1, ...; a group with fewer than two distinct
    values, which has no density, is drawn as its points."""
    positions = np.arange(len(groups))
    spread = [i for i, g in enumerate(groups) if len(np.unique(g)) >= 2]
    if spread:
        values = [groups[i] for i in spread]
        if kind == "violin":
            parts = ax.violinplot(values, positions=positions[spread], showmedians=True, widths=0.8)
            for i, body in zip(spread, parts["bodies"]):
                body.set_facecolor(color(i))
                body.set_alpha(0.6)
        else:
            ax.boxplot(values, positions=positions[spread], widths=0.6, showfliers=False, manage_ticks=False)
    for i, g in enumerate(groups):
        if i not in spread and len(g):
            ax.plot(np.full(len(g), positions[i]), g, "o", color=color(i), markersize=4)
    ax.set_xticks(positions)
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.tick_params(axis="y", labelsize=7)


def boxes(ax, groups, positions, colors, width=0.7):
    """Box plots drawn as three collections (boxes, whiskers, medians), which is far cheaper to render than
    matplotlib's boxplot for figures of many panels. Boxes span the quartiles; whiskers reach the furthest
    values within 1.5 interquartile ranges of the box."""
    keep = [i for i, g in enumerate(groups) if len(g)]
    if not keep:
        return
    x = np.asarray(positions, dtype=float)[keep]
    q25, median, q75, low, high = [], [], [], [], []
    for i in keep:
        values = np.asarray(groups[i], dtype=float)
        a, m, b = np.percentile(values, [25, 50, 75])
        reach = 1.5 * (b - a)
        q25.append(a)
        median.append(m)
        q75.append(b)
        low.append(values[values >= a - reach].min())
        high.append(values[values <= b + reach].max())
    ax.vlines(x, low, high, color="0.3", linewidth=0.8)
    ax.bar(x, np.subtract(q75, q25), bottom=q25, width=width, color=[colors[i] for i in keep], alpha=0.7,
           edgecolor="0.3", linewidth=0.5)
    ax.hlines(median, x - width / 2, x + width / 2, color="black", linewidth=1.0)
    single = [n for n, i in enumerate(keep) if len(groups[i]) == 1]  # no box to see: show the point
    if single:
        ax.scatter(x[single], np.asarray(median)[single], s=10, color=[colors[keep[n]] for n in single], zorder=3)


def heatmap(ax, matrix, row_labels, column_labels, vmin=-1.0, vmax=1.0, scale=100):
    """A correlation heatmap with each cell's value (times `scale`, as Locatello et al. print them)."""
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=vmin, vmax=vmax)
    ax.set_xticks(range(len(column_labels)))
    ax.set_xticklabels(column_labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(row_labels)))
    ax.set_yticklabels(row_labels, fontsize=7)
    for (i, j), value in np.ndenumerate(np.asarray(matrix, dtype=float)):
        if np.isfinite(value):
            ax.text(j, i, "{:.0f}".format(value * scale), ha="center", va="center", fontsize=7,
                    color="white" if abs(value) > 0.6 * vmax else "black")
    return image


def log_scale(ax, values, which="y"):
    """A log scale on one axis, for positive `values`, whose ticks read as plain numbers (3000, not 3x10^3);
    minor ticks are labelled only when the values span less than a decade (else no label would show)."""
    from matplotlib import ticker
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    axis = ax.yaxis if which == "y" else ax.xaxis
    plain = ticker.FuncFormatter(lambda value, _: "{:g}".format(float("{:.3g}".format(value))))
    axis.set_major_formatter(plain)
    values = np.asarray(values, dtype=float)
    narrow = np.nanmax(values) < 10 * np.nanmin(values)
    axis.set_minor_formatter(plain if narrow else ticker.NullFormatter())


def hide_unused(axes, used):
    """Hides the panels of a grid after the first `used`."""
    for ax in axes.ravel()[used:]:
        ax.set_visible(False)


def grid(count, max_columns):
    """(columns, rows) of a grid of `count` panels."""
    columns = max(1, min(count, max_columns))
    return columns, max(1, -(-count // columns))


def spearman(x, y):
    """Spearman rank correlation of two arrays (NaN with fewer than 3 pairs or a constant side)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3:
        return np.nan
    rx, ry = _ranks(x[keep]), _ranks(y[keep])
    if rx.std() == 0 or ry.std() == 0:
        return np.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def _ranks(values):
    from scipy import stats
    return stats.rankdata(values)
