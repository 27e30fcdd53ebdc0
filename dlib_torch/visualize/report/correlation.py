"""Disentanglement against the correlation strength of the training data, per method: Träuble et al., "On
Disentangled Representations Learned from Correlated Data" (ICML 2021), and Roth et al.'s HFS benchmark (ICLR 2023).

Each model's factor distribution comes from its training record (`factor_sampling.*`): the x-axis runs from
uncorrelated to the strongest correlation (smallest sigma). One figure per data set: columns are the correlated
pairs, rows the metrics, and one line per group of models that share every training setting but the seed and the
factor sampling (the mean over seeds, bars one standard deviation). Uncorrelated models are the first point of every
pair's panel. Beside each metric's main score, the pair entanglement: from InfoMEC's factor x
code NMI matrix, the information that the code most informative about one factor of the pair carries about the
other, averaged over both directions (0: the two factors sit on different codes; it grows as one code carries both).
"""
import ast
import math

import numpy as np
import pandas as pd

from dlib_torch.data.ground_truth import factor_names as factor_names_lib
from dlib_torch.visualize.report import main_scores
from dlib_torch.visualize.report import page as page_lib
from dlib_torch.visualize.report import plotting
from dlib_torch.visualize.report import records as records_lib

SAMPLING = "train_config.factor_sampling."
# Training settings that are not part of a group: the seed, the model number, and the factor sampling (the x-axis).
NOT_GROUPED = ("train_config.model.random_seed", "train_config.model.model_num", "train_config.dataset.name")
ENTANGLEMENT = "pair_entanglement"
# Methods of the correlated-data studies, beside the report's own names.
METHOD_NAMES = {"beta_vae_hfs": "β-VAE + HFS", "beta_tc_vae_hfs": "β-TCVAE + HFS", "ada_gvae": "Ada-GVAE",
                "ada_ml_vae": "Ada-ML-VAE", "qlae": "QLAE", "qlvae": "QLVAE"}
NMI_KEY = "evaluation_results.nmi.factor_{}.code_{}"


def add_to_page(page, records):
    representation = records.default_representation()
    section = page.section("Disentanglement and correlated factors",
                           "Scores against the correlation strength of the training data (Träuble et al. 2021; Roth "
                           "et al. 2023): sigma of the Gaussian band of the correlated pair, 'none' for independent "
                           "factors ({} representation). Pair entanglement: the normalised mutual information "
                           "between one factor of the pair and the code most informative about the other (InfoMEC's "
                           "NMI matrix), averaged over both directions; near 0 when the two factors sit on different "
                           "codes.".format(representation))
    models = model_table(records.frame)
    if models is None or not (models["strength"] < math.inf).any():
        section.note("No model was trained on correlated factors (train_config.factor_sampling.mode = "
                     "'correlated'); this figure is skipped.")
        return
    scores = score_table(records, models, representation)
    if scores.empty:
        section.note("The models trained on correlated factors have no scores of the {} representation; this figure "
                     "is skipped.".format(representation))
        return
    summary = summarise(scores)
    for dataset in sorted(summary["dataset"].unique()):
        num_models = scores.loc[scores["dataset"] == dataset, "model_id"].nunique()
        draw_dataset(section, summary[summary["dataset"] == dataset], dataset, representation, num_models)
    section.data(summary, "correlation_strength", "Mean, standard deviation and number of seeds of every (data set, "
                                                  "pair, group, strength, metric).")
    if scores["metric"].ne(ENTANGLEMENT).all():
        section.note("No InfoMEC records (evaluation_results.nmi.*): the pair entanglement is not drawn.")


def model_table(frame):
    """One row per model: model_id, dataset, method, its group and group label, pair (label and factor indices or
    names) and strength (inf when uncorrelated); None without factor sampling in the records."""
    if SAMPLING + "mode" not in frame.columns:
        return None
    first = frame.drop_duplicates("model_id")
    rows = []
    for _, record in first.iterrows():
        pairs, strength = sampling_of(record)
        if strength is None:
            continue  # several pairs with different strengths: no single x position
        rows.append({"model_id": record["model_id"], "dataset": record["dataset"], "method": record["method"],
                     "pairs": pairs, "pair": pair_label(pairs), "strength": strength, "seed": record["seed"]})
    if not rows:
        return None
    models = pd.DataFrame(rows)
    keys = group_keys(first.set_index("model_id").loc[models["model_id"]])
    models["group"] = keys
    models["group_label"] = group_labels(models)
    return models


def sampling_of(record):
    """(pairs, sigma) of a record's training: ([], inf) when independent; sigma None when the pairs' differ."""
    mode = records_lib.gin_value(record.get(SAMPLING + "mode"))
    if mode in (None, "independent"):
        return [], math.inf
    pairs = _literal(record.get(SAMPLING + "pairs")) or []
    strengths = _literal(record.get(SAMPLING + "strengths"))
    if isinstance(strengths, (int, float)):
        strengths = [strengths] * len(pairs)
    values = {float(s) for s in strengths or []}
    return [tuple(p) for p in pairs], (values.pop() if len(values) == 1 else None)


def _literal(value):
    if not isinstance(value, str):
        return None
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return None


def pair_label(pairs):
    return " & ".join("{}–{}".format(*pair) for pair in pairs) if pairs else None


def group_keys(models):
    """For each model (rows of `models`, its first record), the tuple of its training settings but the seed, the
    model number, the data set and the factor sampling."""
    columns = sorted(c for c in models.columns if c.startswith("train_config.") and not c.startswith(SAMPLING)
                     and c not in NOT_GROUPED)
    values = models[columns].astype(object).where(models[columns].notna(), None)
    return [tuple(zip(columns, row)) for row in values.itertuples(index=False, name=None)]


def group_labels(table):
    """Method name, plus the settings that differ between the groups of the same method (`vae.beta=4.0`)."""
    labels = {}
    for method, of_method in table.groupby("method"):
        groups = list(dict.fromkeys(of_method["group"]))
        varying = [i for i in range(len(groups[0])) if len({g[i][1] for g in groups}) > 1] if groups else []
        for group in groups:
            suffix = ", ".join("{}={}".format(group[i][0].split(".", 1)[1], records_lib.gin_value(group[i][1]))
                               for i in varying)
            name = METHOD_NAMES.get(method) or records_lib.method_name(method)
            labels[group] = "{} ({})".format(name, suffix) if suffix else name
    return [labels[group] for group in table["group"]]


def score_table(records, models, representation):
    """Long table (model columns, metric, value) of every metric's score and of the pair entanglement, with the
    uncorrelated models repeated in the panel of each pair of their data set."""
    frame = records.frame[records.frame["representation"] == representation]
    parts = []
    for metric in records.metrics():
        key = records.score_keys[metric]
        rows = frame[(frame["metric"] == metric) & frame["model_id"].isin(models["model_id"])]
        if "evaluation_results." + key not in rows.columns or rows.empty:
            continue
        part = pd.DataFrame({"model_id": rows["model_id"], "metric": metric,
                             "value": pd.to_numeric(rows["evaluation_results." + key], errors="coerce")})
        parts.append(part.drop_duplicates("model_id", keep="last"))
    scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["model_id", "metric", "value"])
    panels = panel_models(models)
    scores = panels.merge(scores, on="model_id")
    entanglement = entanglement_table(frame, panels)
    scores = pd.concat([entanglement, scores], ignore_index=True)
    return scores[scores["value"].notna()].reset_index(drop=True)


def panel_models(models):
    """The models of each (data set, pair) panel: its correlated models and every uncorrelated model of the data set."""
    parts = []
    for dataset, of_dataset in models.groupby("dataset"):
        correlated = of_dataset[of_dataset["strength"] < math.inf]
        for pair, of_pair in correlated.groupby("pair"):
            panel = pd.concat([of_dataset[of_dataset["strength"] == math.inf], of_pair]).copy()
            panel["panel_pair"] = pair
            panel["panel_pairs"] = [of_pair["pairs"].iloc[0]] * len(panel)
            parts.append(panel)
    return pd.concat(parts, ignore_index=True) if parts else models.iloc[0:0].assign(panel_pair=None, panel_pairs=None)


def entanglement_table(frame, panels):
    """The pair entanglement of every model of every panel, from its InfoMEC record's NMI matrix."""
    infomec = frame[(frame["metric_fn"] == "infomec")].drop_duplicates("model_id", keep="last").set_index("model_id")
    rows = []
    for _, model in panels.iterrows():
        if model["model_id"] not in infomec.index:
            continue
        nmi = nmi_matrix(infomec.loc[model["model_id"]])
        names = dataset_factor_names(model["dataset"])
        values = [pair_entanglement(nmi, factor_index(a, names), factor_index(b, names))
                  for a, b in model["panel_pairs"]] if nmi is not None else []
        values = [v for v in values if v is not None]
        if values:
            rows.append({**model.to_dict(), "metric": ENTANGLEMENT, "value": float(np.mean(values))})
    return pd.DataFrame(rows)


def nmi_matrix(record):
    """InfoMEC's NMI [factors, codes] from a record's `nmi.factor_<k>.code_<j>` keys, or None."""
    entries = {}
    for column, value in record.items():
        if isinstance(column, str) and column.startswith("evaluation_results.nmi.factor_") and pd.notna(value):
            factor, code = column[len("evaluation_results.nmi.factor_"):].split(".code_")
            entries[(int(factor), int(code))] = float(value)
    if not entries:
        return None
    matrix = np.full((max(k for k, _ in entries) + 1, max(j for _, j in entries) + 1), np.nan)
    for (k, j), value in entries.items():
        matrix[k, j] = value
    return matrix


def pair_entanglement(nmi, a, b):
    """½ (NMI[b, best code of a] + NMI[a, best code of b]); None when a factor is outside the matrix."""
    if a is None or b is None or max(a, b) >= nmi.shape[0] or np.all(np.isnan(nmi[[a, b]])):
        return None
    return 0.5 * (nmi[b, np.nanargmax(nmi[a])] + nmi[a, np.nanargmax(nmi[b])])


def dataset_factor_names(dataset):
    """The factor names of a data set, in factor order, from its name (None when unknown)."""
    if not isinstance(dataset, str):
        return None
    if dataset.startswith("abstract_dsprites"):
        return factor_names_lib.ABSTRACT_DSPRITES
    if "noshape" in dataset:
        return factor_names_lib.DSPRITES[1:]
    for prefix, names in (("shapes3d", factor_names_lib.SHAPES3D), ("mpi3d", factor_names_lib.MPI3D),
                          ("smallnorb", factor_names_lib.SMALLNORB), ("cars3d", factor_names_lib.CARS3D)):
        if dataset.startswith(prefix):
            return names
    return factor_names_lib.DSPRITES if "dsprites" in dataset else None


def factor_index(factor, names):
    if isinstance(factor, int):
        return factor
    return names.index(factor) if names and factor in names else None


def summarise(scores):
    """Mean, standard deviation and count over seeds of each (data set, pair, group, strength, metric)."""
    grouped = scores.groupby(["dataset", "panel_pair", "method", "group_label", "strength", "metric"],
                             dropna=False)["value"]
    summary = pd.DataFrame({"mean": grouped.mean(), "std": grouped.std(ddof=0), "count": grouped.size()})
    return summary.reset_index().rename(columns={"panel_pair": "pair", "group_label": "group"})


def metric_order(metrics):
    rest = sorted((m for m in metrics if m != ENTANGLEMENT), key=main_scores.metric_sort_key)
    return ([ENTANGLEMENT] if ENTANGLEMENT in metrics else []) + rest


def metric_label(metric):
    if metric == ENTANGLEMENT:
        return "Pair entanglement"
    return main_scores.display_name(metric)


def strength_label(strength):
    return "none" if strength == math.inf else "{:g}".format(strength)


def draw_dataset(section, summary, dataset, representation, num_models):
    """One figure: columns are the pairs, rows the metrics, lines the groups (mean ± std over seeds)."""
    pairs = sorted(summary["pair"].unique())
    metrics = metric_order(set(summary["metric"]))
    methods = summary.drop_duplicates("group").set_index("group")["method"]
    groups = sorted(methods.index, key=lambda g: (records_lib.method_sort_key(methods[g]), g))
    strengths = sorted(summary["strength"].unique(), reverse=True)  # none (inf) first, strongest last
    position = {s: k for k, s in enumerate(strengths)}
    figure, axes = section.page.new_figure(len(pairs), len(metrics), width=3.0, height=2.0, wspace=0.6,
                                           hspace=0.55, bottom=0.7, top=0.6 + 0.18 * -(-len(groups) // 4),
                                           min_width=min(len(groups), 4) * page_lib.LEGEND_ENTRY_WIDTH)
    offsets = np.linspace(-0.12, 0.12, len(groups)) if len(groups) > 1 else [0.0]
    for j, pair in enumerate(pairs):
        for i, metric in enumerate(metrics):
            ax = axes[i, j]
            for k, group in enumerate(groups):
                line = summary[(summary["pair"] == pair) & (summary["metric"] == metric)
                               & (summary["group"] == group)].sort_values("strength", ascending=False)
                if line.empty:
                    continue
                x = line["strength"].map(position).to_numpy() + offsets[k]
                ax.errorbar(x, line["mean"], yerr=line["std"], fmt="o-", color=plotting.color(k), markersize=3,
                            linewidth=1.2, capsize=2, label=group)
            ax.set_xticks(range(len(strengths)))
            ax.set_xticklabels([strength_label(s) for s in strengths], fontsize=7)
            ax.tick_params(axis="y", labelsize=7)
            if i == 0:
                ax.set_title(pair, fontsize=9)
            if i == len(metrics) - 1:
                ax.set_xlabel("correlation σ (stronger →)", fontsize=8)
            if j == 0:
                ax.set_ylabel(metric_label(metric), fontsize=8)
    handles, labels = [], []
    for ax in axes.ravel():
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    section.page.legend(figure, handles, labels, 4)
    section.figure(figure, records_lib.file_stem("correlation", dataset),
                   "{}: scores per correlation strength of each pair (columns), per metric (rows), one line per group "
                   "of models sharing every setting but the seed, mean ± std over seeds ({}, {} representation)."
                   .format(dataset, records_lib.numbered(int(num_models), "model"),
                                             representation))
