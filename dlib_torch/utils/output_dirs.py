"""The one policy every stage follows for its output directory (DESIGN §2)."""
import os
import shutil

from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError


def prepare_output_directory(output_directory, step_name, overwrite, keep_unfinished=False):
    """Makes `output_directory` ready for `step_name`.

    A finished step (its aggregate record exists) is never touched unless `overwrite`; then it is removed.
    An unfinished directory is removed and redone, or kept when `keep_unfinished` (training resumes from
    the checkpoints in it).
    """
    if results.step_finished(output_directory, step_name) and not overwrite:
        raise UserError("{} already holds finished '{}' results; pass --overwrite to replace them".format(
            output_directory, step_name))
    if os.path.exists(output_directory) and (overwrite or not keep_unfinished):
        shutil.rmtree(output_directory)
    os.makedirs(output_directory, exist_ok=True)


def require_finished(directory, step_name, command_hint):
    """Raises a one-line error unless `directory` holds the finished records of `step_name`."""
    if not os.path.isdir(directory):
        raise UserError("input directory {} does not exist; {}".format(directory, command_hint))
    if not results.step_finished(directory, step_name):
        raise UserError("{} has no finished '{}' step (results/aggregate/{}.json is missing); {}".format(
            directory, step_name, step_name, command_hint))
