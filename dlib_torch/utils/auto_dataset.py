"""`dataset.name = "auto"`: a step uses the data set recorded by the step it reads (disentanglement_lib §2.5).

Likewise `held_out.split = "auto"` in an evaluation config restricts the data to a side of the model's own
held-out split (the training side by default), as the generalisation paper computes DCI on the training split.
"""
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


def _python_string(gin_value):
    """A recorded gin string ('name' or None) as a Python str or None."""
    gin_value = gin_value.strip()
    return None if gin_value == "None" else gin_value.strip("'\"")
