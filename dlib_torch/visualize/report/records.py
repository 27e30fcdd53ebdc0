"""The aggregated records of a sweep as the report reads them: one row per record plus what each is about.

`load` reads dtl_aggregate's JSON files (or globs the records themselves); `Records` adds, from the
records' own keys, the columns the figures group by: `model_id` (one trained model: `train_results.uuid`,
else the model's directory), `model_num`, `dataset`, `method` (`model.name`), `hyperparameter` (the
regulariser strength of the method), `seed`, `split` and `condition` (held-out split), `representation`
(`postprocess.name`), `metric` (`evaluation.name`) and `metric_fn`, `setting` and `setting_label` (the
configuration: every training setting but the seed, `settings.py`); and `scores`, the long table of each
evaluation's main score (`main_scores`).
"""
import os
import re

import numpy as np
import pandas as pd

from dlib_torch.utils import aggregate_results
from dlib_torch.utils.errors import UserError
from dlib_torch.visualize.report import main_scores
from dlib_torch.visualize.report import settings

# model.model -> (the train_config key of its regulariser strength, its symbol in labels).
REGULARISERS = {
    "@vae()": ("vae.beta", "β"),
    "@beta_tc_vae()": ("beta_tc_vae.beta", "β"),
    "@factor_vae()": ("factor_vae.gamma", "γ"),
    "@dip_vae()": ("dip_vae.lambda_od", "λ"),
    "@annealed_vae()": ("annealed_vae.c_max", "C"),
}
METHOD_NAMES = {"beta_vae": "β-VAE", "factor_vae": "FactorVAE", "dip_vae_i": "DIP-VAE-I", "dip_vae_ii": "DIP-VAE-II",
                "beta_tc_vae": "β-TCVAE", "annealed_vae": "AnnealedVAE", "gt_decoder": "GT decoder"}
# Locatello et al.'s order of the methods; others follow in name order.
METHOD_ORDER = ["beta_vae", "factor_vae", "beta_tc_vae", "dip_vae_i", "dip_vae_ii", "annealed_vae", "gt_decoder"]
# The four generalisation conditions of Montero et al., from each family's named splits.
CONDITION_ORDER = ["interpolation", "recombination_to_element", "recombination_to_range", "extrapolation"]
CONDITION_NAMES = {"interpolation": "Interpolation", "recombination_to_element": "Recombination to element",
                   "recombination_to_range": "Recombination to range", "extrapolation": "Extrapolation"}
IGNORED_RESULT_KEYS = ("elapsed_time", "uuid")
MODEL_DIR_MARKERS = (os.sep + "metrics" + os.sep, os.sep + "abstract_reasoning" + os.sep)


def load(input_paths=(), result_file_pattern=None):
    """The records of dtl_aggregate files `input_paths`, or of the record files matching the glob, as one
    DataFrame; a missing, empty or unreadable file is a one-line UserError. A file given twice is read once, and
    a record present in several inputs (the same `path` and evaluation uuid) is kept once."""
    frames = []
    if result_file_pattern:
        records, num_skipped = aggregate_results.load_records(result_file_pattern)
        frames.append(pd.DataFrame(records))
    unique_paths = []
    for path in input_paths:
        if os.path.realpath(path) not in {os.path.realpath(p) for p in unique_paths}:
            unique_paths.append(path)
    for path in unique_paths:
        if not os.path.isfile(path):
            raise UserError("--input {} {}; give the JSON file dtl_aggregate wrote".format(
                path, "is a directory" if os.path.isdir(path) else "does not exist"))
        try:
            frames.append(aggregate_results.load_aggregated_json_results(path))
        except ValueError as e:
            raise UserError("--input {} is not an aggregated results file (JSON of dtl_aggregate): {}".format(
                path, " ".join(str(e).split())[:200])) from None
    frame = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0]
    identity = [c for c in ("path", "evaluation_results.uuid", "train_results.uuid") if c in frame.columns]
    if identity and len(frames) > 1:
        frame = frame[~frame[identity].astype(str).duplicated(keep="first")].reset_index(drop=True)
    return frame


def gin_value(value):
    """A value as gin printed it, parsed: quotes stripped, numbers as floats, `None` as None."""
    if not isinstance(value, str):
        return None if value is None or (isinstance(value, float) and np.isnan(value)) else value
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text == "None":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def parsed_column(frame, column):
    """Column `column` parsed with gin_value (each distinct value once); all None when absent."""
    if column not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    series = frame[column]
    lookup = {value: gin_value(value) for value in pd.unique(series.dropna())}
    return series.map(lookup).astype(object).where(series.notna(), None)


def condition_of_split(split):
    """The generalisation condition of a held-out split name (`shape2tx` -> recombination_to_range), else the
    split itself; None without a split."""
    if split is None or split == "":
        return None
    from dlib_torch.data.ground_truth import splits
    for family in splits.CONDITIONS.values():
        for condition, name in family.items():
            if split in (condition, name):
                return condition
    if isinstance(split, str) and split.startswith("interp_"):
        return "interpolation"
    return split


def condition_name(condition):
    return CONDITION_NAMES.get(condition, str(condition))


def condition_sort_key(condition):
    return (CONDITION_ORDER.index(condition) if condition in CONDITION_ORDER else len(CONDITION_ORDER),
            str(condition))


def method_sort_key(method):
    return (METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER), str(method))


def configuration_sort_key(row, label_column):
    """The papers' order of a configuration's row: held-out condition, method, regulariser strength (none first),
    then its label (`row[label_column]`)."""
    strength = row["hyperparameter"] if pd.notna(row["hyperparameter"]) else -np.inf
    return (condition_sort_key(row["condition"]), method_sort_key(row["method"]), strength, row[label_column])


def sorted_rows(frame, key):
    """The rows of `frame` in the order of `key(row)` (a tuple, as `configuration_sort_key`), indexed from 0."""
    return frame.iloc[sorted(range(len(frame)), key=lambda i: key(frame.iloc[i]))].reset_index(drop=True)


def method_name(method):
    return METHOD_NAMES.get(method, str(method))


def model_label(method, symbol, value):
    """A model's name in the papers' tables: 'VAE', 'β-VAE (β=8)', 'FactorVAE (γ=20)', 'GT decoder'."""
    name = method_name(method)
    if symbol is None or value is None or (isinstance(value, float) and np.isnan(value)):
        return name
    if method == "beta_vae" and value == 1:
        return "VAE"
    return "{} ({}={:g})".format(name, symbol, value)


class Records:
    """The records of a sweep with the columns the figures group by (see the module docstring)."""

    def __init__(self, frame, score_overrides=None):
        """`frame`: the aggregated records; `score_overrides`: {metric name: result key} to plot instead of
        the main score (a user's metric, or another key of a known one)."""
        if frame.empty or not any(str(c).startswith(("train_config.", "evaluation_results.")) for c in frame.columns):
            raise UserError("the input holds no dlib_torch/disentanglement_lib records (no train_config.* or "
                            "evaluation_results.* keys); give the JSON file that dtl_aggregate wrote")
        self.frame = frame.reset_index(drop=True)
        self.notes = []
        self.preferred_representation = None  # report.representation, when not "auto"
        self._add_model_columns()
        self._add_record_columns()
        self.scores, self.score_keys = self._main_scores(score_overrides or {})

    @property
    def num_models(self):
        return int(self.frame["model_id"].nunique())

    def _add_model_columns(self):
        f = self.frame
        f["dataset"] = parsed_column(f, "train_config.dataset.name").fillna("unknown")
        model_fn = parsed_column(f, "train_config.model.model")
        method = parsed_column(f, "train_config.model.name")
        f["method"] = method.where(method.notna(), model_fn.str.strip("@()")).fillna("unknown")
        f["model_num"] = pd.to_numeric(parsed_column(f, "train_config.model.model_num"), errors="coerce")
        f["seed"] = pd.to_numeric(parsed_column(f, "train_config.model.random_seed"), errors="coerce")
        f["split"] = parsed_column(f, "train_config.held_out.split")
        lookup = {split: condition_of_split(split) for split in pd.unique(f["split"].dropna())}
        f["condition"] = f["split"].map(lookup).astype(object).where(f["split"].notna(), None)
        hyperparameter = pd.Series(np.nan, index=f.index)
        symbol = pd.Series(None, index=f.index, dtype=object)
        for fn, (key, sign) in REGULARISERS.items():
            rows = model_fn == fn
            if rows.any() and "train_config." + key in f.columns:
                values = pd.to_numeric(parsed_column(f.loc[rows], "train_config." + key), errors="coerce")
                hyperparameter[rows] = values
                symbol[rows] = sign
        f["hyperparameter"] = hyperparameter
        f["hyperparameter_symbol"] = symbol
        # NaN never equals itself, so the lookup keys use None for a missing strength.
        keys = list(zip(f["method"], f["hyperparameter_symbol"], f["hyperparameter"].astype(object).where(
            f["hyperparameter"].notna(), None)))
        labels = {key: model_label(*key) for key in set(keys)}
        f["model_label"] = [labels[key] for key in keys]
        f["model_id"] = self._model_ids()
        f["setting"], f["setting_label"] = settings.setting_columns(f)

    def _model_ids(self):
        """One id per trained model: its training run's uuid, else its directory, else its record."""
        f = self.frame
        ids = f["train_results.uuid"] if "train_results.uuid" in f.columns else pd.Series(None, index=f.index)
        if ids.notna().all():
            return ids.astype(str)
        paths = f["path"] if "path" in f.columns else pd.Series(None, index=f.index)
        directories = paths.map(model_directory)
        fallback = directories.where(directories.notna(), pd.Series(["record{}".format(i) for i in f.index]))
        return ids.where(ids.notna(), fallback).astype(str)

    def _add_record_columns(self):
        f = self.frame
        representation = parsed_column(f, "postprocess_config.postprocess.name")
        post_fn = parsed_column(f, "postprocess_config.postprocess.postprocess_fn")
        f["representation"] = representation.where(representation.notna(), post_fn.str.strip("@()").str.replace(
            "_representation", "")).fillna("unnamed")  # a user's record without postprocessing keys
        metric_fn = parsed_column(f, "evaluation_config.evaluation.evaluation_fn").str.strip("@()")
        metric = parsed_column(f, "evaluation_config.evaluation.name")
        f["metric_fn"] = metric_fn
        f["metric"] = metric.where(metric.notna(), metric_fn)

    def _main_scores(self, overrides):
        """Long table (model columns, representation, metric, metric_fn, value) of each evaluation's main score."""
        f = self.frame
        evaluations = f[f["metric"].notna()]
        result_columns = [c for c in f.columns if c.startswith("evaluation_results.")
                          and not c.endswith(IGNORED_RESULT_KEYS)]
        parts, keys = [], {}
        for (metric, function), rows in evaluations.groupby(["metric", evaluations["metric_fn"].fillna("")],
                                                            sort=True):
            present = [c[len("evaluation_results."):] for c in result_columns if rows[c].notna().any()]
            key = overrides.get(metric) or main_scores.main_score_key(function, present)
            if key is None and present:
                key = sorted(present)[0]
                self.notes.append("metric '{}' ({}) has no known main score; its figures show '{}' (choose another "
                                  "with --gin_bindings=\"report.main_scores = {{'{}': 'KEY'}}\")".format(
                                      metric, function or "unknown function", key, metric))
            if key is None or "evaluation_results." + key not in f.columns:
                self.notes.append("metric '{}' has no score '{}' in its records; it is left out of the "
                                  "figures".format(metric, key))
                continue
            keys[metric] = key
            part = rows[MODEL_COLUMNS + ["representation", "metric", "metric_fn"]].copy()
            raw = rows["evaluation_results." + key]
            part["value"] = pd.to_numeric(raw, errors="coerce")
            unusable = raw.notna() & ~np.isfinite(part["value"].astype(float))
            if unusable.any():
                examples = ", ".join(sorted({repr(v) for v in raw[unusable]})[:3])
                self.notes.append("metric '{}': {} of its '{}' values are not finite numbers (e.g. {}); those "
                                  "records are left out of the figures".format(metric, int(unusable.sum()), key,
                                                                               examples))
            parts.append(part[np.isfinite(part["value"].astype(float))])
        columns = MODEL_COLUMNS + ["representation", "metric", "metric_fn", "value"]
        scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
        duplicated = scores.duplicated(["model_id", "representation", "metric"], keep="last")
        if duplicated.any():
            self.notes.append("{} evaluations appear more than once (same model, representation and metric); the "
                              "last record of each is used".format(int(duplicated.sum())))
            scores = scores[~duplicated].reset_index(drop=True)
        return scores, keys

    def score_table(self, representation, metrics=None):
        """Models x metrics of the main scores of one representation (with the model columns as index)."""
        scores = self.scores[self.scores["representation"] == representation]
        if metrics is not None:
            scores = scores[scores["metric"].isin(metrics)]
        if scores.empty:
            return pd.DataFrame()
        table = scores.pivot_table(index=["model_id", "dataset", "method"], columns="metric", values="value",
                                   aggfunc="first", observed=True)
        table.columns.name = None
        return table[sorted(table.columns, key=main_scores.metric_sort_key)]

    def metric_function(self, metric):
        functions = self.scores.loc[self.scores["metric"] == metric, "metric_fn"].dropna()
        return functions.iloc[0] if len(functions) else None

    def metrics(self):
        """Metrics with a main score, in the papers' order."""
        return sorted(self.score_keys, key=main_scores.metric_sort_key)

    def representations(self):
        """Representations with scores, 'mean' first (the papers' default), then 'sampled', then the others."""
        present = set(self.scores["representation"].dropna())
        return [r for r in ("mean", "sampled") if r in present] + sorted(present - {"mean", "sampled"})

    def default_representation(self):
        """The representation of the single-representation figures: the chosen one, else mean, else any."""
        if self.preferred_representation:
            return self.preferred_representation
        representations = self.representations()
        return representations[0] if representations else None

    def datasets(self):
        return sorted(self.frame["dataset"].dropna().unique())


MODEL_COLUMNS = ["model_id", "model_num", "dataset", "method", "hyperparameter", "hyperparameter_symbol", "seed",
                 "split", "condition", "model_label", "setting", "setting_label"]


def study_from_paths(frame):
    """The study name in the records' paths (dtl_reproduce's `<root>/<study>/<model_num>/metrics/...`), when
    every record names the same one; else None."""
    if "path" not in frame.columns:
        return None
    names = frame["path"].astype(str).str.extract(_STUDY_IN_PATH, expand=False).dropna().unique()
    return names[0] if len(names) == 1 and len(frame) else None


_STUDY_IN_PATH = r"(?:^|/)([^/]+)/\d+/(?:metrics|abstract_reasoning)/"


def model_directory(path):
    """The model's output directory from a record's path (`<dir>/metrics/...`), or None."""
    if not isinstance(path, str):
        return None
    for marker in MODEL_DIR_MARKERS:
        index = path.rfind(marker)
        if index > 0:
            return path[:index]
    return None


def numbered(count, noun):
    """'1 model', '12,600 models'."""
    return "{:,} {}{}".format(count, noun, "" if count == 1 else "s")


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def file_stem(*parts):
    """A safe file name stem from parts ('dsprites full' -> 'dsprites_full')."""
    text = "_".join(str(p) for p in parts if p is not None and str(p) != "")
    return _SAFE.sub("_", text.translate(_GREEK)).strip("_")


_GREEK = str.maketrans({"β": "beta", "γ": "gamma", "λ": "lambda"})
