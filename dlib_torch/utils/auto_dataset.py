"""`dataset.name = "auto"`: a step uses the data set recorded by the step it reads (disentanglement_lib §2.5).

Likewise `held_out.split = "auto"` in an evaluation config restricts the data to a side of the model's own
held-out split (the training side by default), as the generalisation paper computes DCI on the training split,
and `evaluation.factor_sampling = 'training'` draws factors as the model's training did (`resolve_factor_sampling`).
"""
import ast
import os

import gin

from dlib_torch.utils import gin_utils
from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError


def resolve(previous_gin_file):
    """Binds `dataset.name` to the name recorded in `previous_gin_file` if it is "auto" (or unbound).

    Returns the data set name now bound.
    """
    name = gin_utils.query_parameter_or("dataset.name", "auto")
    if name != "auto":
        return name
    if not os.path.exists(previous_gin_file):
        raise UserError("dataset.name is 'auto' but {} does not exist to say which data set to use; bind "
                        "dataset.name explicitly".format(previous_gin_file))
    recorded = results.gin_dict(previous_gin_file).get("dataset.name")
    if recorded is None:
        raise UserError("dataset.name is 'auto' but {} records no dataset.name; bind dataset.name "
                        "explicitly".format(previous_gin_file))
    name = recorded.strip().strip("'\"")
    with gin.unlock_config():
        gin.bind_parameter("dataset.name", name)
    return name


def resolve_held_out(train_gin_file):
    """Binds `held_out.split` (and its train predicate) to the model's, recorded in `train_gin_file`, if "auto".

    Returns the split now bound (None when the model was trained on the whole data set).
    """
    split = gin_utils.query_parameter_or("held_out.split", None)
    if split != "auto":
        return split
    if not os.path.exists(train_gin_file):
        raise UserError("held_out.split is 'auto' but {} does not exist to say which split the model was trained "
                        "on; bind held_out.split explicitly".format(train_gin_file))
    recorded = results.gin_dict(train_gin_file)
    split = _python_string(recorded.get("held_out.split", "None"))
    train_predicate = _python_string(recorded.get("held_out.train_predicate", "None"))
    with gin.unlock_config():
        gin.bind_parameter("held_out.split", split)
        gin.bind_parameter("held_out.train_predicate", train_predicate)
    return split


FACTOR_SAMPLING_PARAMETERS = ("mode", "pairs", "strengths", "directions")


def resolve_factor_sampling(train_gin_file):
    """Binds `factor_sampling.*` to the values recorded in `train_gin_file`; returns them as a dict.

    A record without `factor_sampling.mode` (a model trained before factor sampling existed) is 'independent'.
    """
    if not os.path.exists(train_gin_file):
        raise UserError("evaluation.factor_sampling is 'training' but {} does not exist to say how the model's "
                        "training sampled factors; use evaluation.factor_sampling = 'independent'".format(
                            train_gin_file))
    recorded = results.gin_dict(train_gin_file)
    values = {"mode": "independent"}
    for name in FACTOR_SAMPLING_PARAMETERS:
        text = recorded.get("factor_sampling." + name)
        if text is not None:
            try:
                values[name] = ast.literal_eval(text.strip())
            except (ValueError, SyntaxError):
                raise UserError("{} records factor_sampling.{} = {}, which is not a Python literal".format(
                    train_gin_file, name, text)) from None
    with gin.unlock_config():
        for name, value in values.items():
            gin.bind_parameter("factor_sampling." + name, value)
    return values


def bound_factor_sampling_parameters():
    """The `factor_sampling.*` parameters bound in the current gin config (an evaluation must bind none)."""
    return ["factor_sampling." + name for name in FACTOR_SAMPLING_PARAMETERS
            if gin_utils.query_parameter_or("factor_sampling." + name, _UNBOUND) is not _UNBOUND]


_UNBOUND = object()


def _python_string(gin_value):
    """A recorded gin string ('name' or None) as a Python str or None."""
    gin_value = gin_value.strip()
    return None if gin_value == "None" else gin_value.strip("'\"")
