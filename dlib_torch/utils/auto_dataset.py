"""`dataset.name = "auto"`: a step uses the data set recorded by the step it reads (disentanglement_lib §2.5)."""
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
