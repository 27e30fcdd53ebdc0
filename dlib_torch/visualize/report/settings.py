"""Which models share a configuration: every training setting (`train_config.*`) but the seeds and the runtime.

Tables that average over seeds group by this, never by the model's name alone, so that two configurations of one
method (a 50-step and a 2,000-step Composer, two learning rates) are never averaged as if they were seeds. Left
out of a setting: the seeds (`model.random_seed`, `model_selection.seed`, any `*_seed`), the model number, and the
runtime (`training_runtime.*`, `evaluation_runtime.*` but its `mode`: device, threads, checkpoint intervals, which
change where and how fast a model trains or is evaluated, not its numbers).
"""
import hashlib

import pandas as pd

SEED_PARAMETERS = ("random_seed", "seed", "model_num")
RUNTIME_SCOPES = ("training_runtime.", "evaluation_runtime.")
RUNTIME_SETTINGS = ("evaluation_runtime.mode",)  # the fast evaluation mode changes the numbers
MAX_SHOWN_DIFFERENCES = 3


def is_setting(key):
    """Whether a gin parameter (`scope.name`) belongs to a model's setting (see the module docstring)."""
    name = key.rsplit(".", 1)[-1]
    if name in SEED_PARAMETERS or name.endswith("_seed"):
        return False
    return key in RUNTIME_SETTINGS or not key.startswith(RUNTIME_SCOPES)


def setting_columns(frame, prefixes=("train_config.",), label_column="model_label", unit="model_id"):
    """(setting, setting_label) Series for the records of `frame`: a short id of the setting of each `unit` (a
    model; None: each record) over the keys with `prefixes`, and its label, extended with the settings that tell
    it apart from other settings with the same label in the same data set and split, e.g.
    'Composer (model.training_steps=50)'."""
    keys = sorted(c for c in frame.columns if c.startswith(prefixes) and is_setting(c.split(".", 1)[1]))
    units = frame.index.to_series() if unit is None else frame[unit]
    models = frame.assign(_unit=units.to_numpy()).drop_duplicates("_unit").set_index("_unit")
    values = models[keys].astype(object).where(models[keys].notna(), None)
    canonical = pd.Series(["\n".join("{}={}".format(k, v) for k, v in zip(keys, row) if v is not None)
                           for row in values.itertuples(index=False)], index=models.index, dtype=object)
    ids = canonical.map(lambda text: hashlib.sha1(text.encode("utf-8")).hexdigest()[:10])
    labels = models[label_column].astype(str).copy()
    cells = pd.DataFrame({"dataset": models.get("dataset"), "split": models.get("split"), "label": labels,
                          "setting": ids}, index=models.index).fillna("")
    shared = cells.groupby(["dataset", "split", "label"], sort=False)["setting"].transform("nunique") > 1
    for _, cell in cells[shared].groupby(["dataset", "split", "label"], sort=False):
        distinct = cell.drop_duplicates("setting")
        differing = [k for k in keys if values.loc[distinct.index, k].astype(str).nunique(dropna=False) > 1]
        for key in cell.index:
            labels[key] = _label(labels[key], values.loc[key, differing], ids[key])
    return units.map(ids), units.map(labels)


def _label(label, differences, setting_id):
    """'label (k1=v1, k2=v2)': the first MAX_SHOWN_DIFFERENCES differing settings, else the setting id."""
    parts = ["{}={}".format(key.split(".", 1)[1], value) for key, value in differences.items()]
    if not parts:
        parts = ["setting {}".format(setting_id)]
    elif len(parts) > MAX_SHOWN_DIFFERENCES:
        parts = parts[:MAX_SHOWN_DIFFERENCES] + ["setting {}".format(setting_id)]
    return "{} ({})".format(label, ", ".join(parts))
