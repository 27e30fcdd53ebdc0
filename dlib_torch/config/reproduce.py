"""The studies that can be reproduced: shipped ones by name, a user's own by the path of its folder.

`STUDIES[name]` mirrors disentanglement_lib's `config/reproduce.py:STUDIES` (studies load lazily);
`get_study(name_or_path)` is what `dtl_reproduce --study` uses.
"""
import collections.abc
import importlib.util
import os

from dlib_torch.config import study as study_lib
from dlib_torch.utils.errors import UserError


def studies_root():
    """The folder of the shipped studies: the package `dlib_torch.studies` (configs/studies/ in the repo).

    When that package is not importable (tests running on the source tree), falls back to
    `<repo>/configs/studies` beside the dlib_torch source directory.
    """
    try:
        spec = importlib.util.find_spec("dlib_torch.studies")
    except ImportError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return list(spec.submodule_search_locations)[0]
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(os.path.dirname(package_dir), "configs", "studies")


def study_names():
    """Names of the shipped studies, sorted."""
    root = studies_root()
    if not os.path.isdir(root):
        return []
    return sorted(name for name in os.listdir(root) if os.path.isfile(os.path.join(root, name, "sweep.py")))


def get_study(name_or_path):
    """The shipped study called `name_or_path`, else the study folder at that path."""
    if name_or_path in study_names():
        return study_lib.FolderStudy(os.path.join(studies_root(), name_or_path))
    if os.path.isdir(name_or_path):
        return study_lib.FolderStudy(name_or_path)
    raise UserError("unknown study '{}': give a shipped study ({}) or the path of a study folder holding "
                    "sweep.py, model_configs/, postprocess_configs/ and metric_configs/".format(
                        name_or_path, ", ".join(study_names())))


class _ShippedStudies(collections.abc.Mapping):
    """Read-only mapping name -> Study over the shipped studies, loaded when looked up."""

    def __getitem__(self, name):
        if name not in study_names():
            raise KeyError(name)
        return get_study(name)

    def __iter__(self):
        return iter(study_names())

    def __len__(self):
        return len(study_names())


STUDIES = _ShippedStudies()
