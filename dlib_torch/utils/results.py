"""Results records of a pipeline step, with disentanglement_lib's layout and key formats.

A finished step leaves, in `<output_dir>/results/`:
  gin/<step>.gin               the operative gin config,
  json/<step>_config.json      that config flattened to {"scope.param": "value as gin prints it"},
  json/<step>_results.json     the step's results (with `uuid`, and `elapsed_time` from the stage),
  aggregate/<step>.json        every json/X.json merged with keys namespaced as "X.<key>".
The aggregate file is written last, so its presence marks the step as finished. Every file is written
atomically, and earlier steps' records are carried forward by copying the input's results/ first.
"""
import ast
import copy
import os
import re
import uuid

import gin
import numpy as np
import simplejson as json

from dlib_torch.utils import atomic
from dlib_torch.utils.errors import UserError


def update_result_directory(result_directory, step_name, results_dict, old_result_directory=None):
    """Writes the records of `step_name` into `result_directory` (see module docstring).

    Args:
      result_directory: the `results/` directory to write.
      step_name: the step's name, used as the namespace (train, postprocess, evaluation, ...).
      results_dict: the step's results; a `uuid` is added.
      old_result_directory: the previous step's `results/` directory, copied first when given.
    """
    if old_result_directory is not None:
        copydir(old_result_directory, result_directory)
    atomic.makedirs(result_directory)
    results_dict["uuid"] = str(uuid.uuid4())
    json_dir = os.path.join(result_directory, "json")
    gin_config_path = os.path.join(result_directory, "gin", "{}.gin".format(step_name))
    save_gin(gin_config_path)
    save_dict(os.path.join(json_dir, "{}_config.json".format(step_name)), gin_dict(gin_config_path))
    save_dict(os.path.join(json_dir, "{}_results.json".format(step_name)), results_dict)
    aggregate_path = os.path.join(result_directory, "aggregate", "{}.json".format(step_name))
    save_dict(aggregate_path, aggregate_json_results(json_dir))


def step_finished(output_directory, step_name):
    """True if `output_directory` holds the finished records of `step_name`."""
    return os.path.exists(os.path.join(output_directory, "results", "aggregate", "{}.json".format(step_name)))


def copydir(path_to_old_dir, path_to_new_dir):
    """Copies a directory tree into a new path, which is created if necessary."""
    atomic.copy_tree(path_to_old_dir, path_to_new_dir)


def save_gin(config_path):
    """Saves the operative gin config to a gin file."""
    atomic.write_text(config_path, gin.operative_config_str())


class Encoder(json.JSONEncoder):
    """JSON encoder for numpy scalars and arrays."""

    def default(self, obj):
        if isinstance(obj, np.floating):
            return float(obj)
        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        return json.JSONEncoder.default(self, obj)


def save_dict(config_path, dict_with_info):
    """Saves a dict to a JSON file, atomically; NaN and infinities as JSON's NaN and Infinity, as the reference
    wrote them (a metric's undefined score stays a number; simplejson 3.19+ refuses them by default)."""
    atomic.write_text(config_path, json.dumps(dict_with_info, cls=Encoder, indent=2, ignore_nan=False,
                                              allow_nan=True))


def gin_dict(config_path=None):
    """Flattens a gin config (a file, or the operative config) to {"scope.param": "value as gin prints it"}.

    Values keep gin's formatting, quotes included (`"'dsprites_full'"`, `"@vae()"`). Values that gin wraps
    over several lines (ending a line with a backslash) are joined onto one line.
    """
    if config_path is None:
        operative_str = gin.operative_config_str()
    else:
        with open(config_path, encoding="utf-8") as f:
            operative_str = f.read()
    result = {}
    lines = iter(operative_str.split("\n"))
    for line in lines:
        if line.startswith("#") or " = " not in line:
            continue
        key, value = line.split(" = ", 1)
        value = value.rstrip()
        # gin wraps long values: a trailing backslash, then lines until the brackets close.
        while value.endswith("\\") or _open_brackets(value) > 0:
            if value.endswith("\\"):
                value = value[:-1].rstrip()
            following = next(lines, None)
            if following is None:
                break
            value = (value + " " + following.strip()).strip()
        result[key] = value
    return result


def _open_brackets(text):
    """Number of brackets opened and not closed in `text`, ignoring quoted strings."""
    depth, quote, escaped = 0, None, False
    for ch in text:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return depth


def same_gin_value(first, second):
    """Whether two values as gin prints them (or as a binding writes them) mean the same: `4` and `4.0`,
    `'mig'` and `"mig"`."""
    def parsed(text):
        try:
            return ast.literal_eval(str(text).strip())
        except (ValueError, SyntaxError, RecursionError, MemoryError):
            return str(text).strip()
    return parsed(first) == parsed(second)


def namespaced_dict(base_dict=None, **named_dicts):
    """Fuses named dicts into one, keys namespaced as "<name>.<key>" (on a deep copy of `base_dict`)."""
    result = {} if base_dict is None else copy.deepcopy(base_dict)
    for outer_key, inner_dict in named_dicts.items():
        for inner_key, value in inner_dict.items():
            result["{}.{}".format(outer_key, inner_key)] = value
    return result


def aggregate_json_results(base_path):
    """Merges every `X.json` in a directory into one namespaced dict ("X.<key>")."""
    result = {}
    pattern = re.compile(r"(.*)\.json$")
    for filename in sorted(os.listdir(base_path)):
        match = pattern.match(filename)
        if match and not filename.startswith("."):
            result[match.group(1)] = load_record(os.path.join(base_path, filename))
    return namespaced_dict(**result)


def load_record(path):
    """Reads a JSON record; a damaged one is a one-line UserError naming the file and the way out."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f, allow_nan=True)
    except RecursionError:
        raise UserError("results record {} is damaged (nested too deeply to read); restore it, or rerun the step "
                        "that wrote it with --overwrite".format(path)) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError("results record {} is damaged ({}); restore it, or rerun the step that wrote it with "
                        "--overwrite".format(path, " ".join(str(e).split())[:120])) from None
    if not isinstance(record, dict):
        raise UserError("results record {} is damaged (it holds a {}, not a JSON object); restore it, or rerun "
                        "the step that wrote it with --overwrite".format(path, type(record).__name__))
    return record
