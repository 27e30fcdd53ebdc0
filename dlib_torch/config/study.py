"""A study: a numbered sweep of models, plus the postprocessing and metric configs every model gets.

A study lives in a folder (DESIGN §6):
  sweep.py               defines get_config() -> list of {gin parameter: value}, one per model number;
                         optionally get_model_config_file(config) -> gin file relative to the folder
                         (default model_configs/shared.gin); get_trainer(config) -> 'unsupervised' (the
                         default: dtl_train's trainer) or 'weak' (dtl_train_weakly_supervised's, for pairs of
                         observations); and VISUALIZE_OPTIONS, arguments of the visualisation (num_animations,
                         num_frames, fps, num_points_irs)
  model_configs/         the training gin files
  postprocess_configs/   one gin file per representation (mean.gin, sampled.gin, ...)
  metric_configs/        one gin file per metric
  (optional) abstract-reasoning gin files, one dtl_reason run each on one representation: sweep.py names
                         their folder in REASON_CONFIG_DIR and the representation in REASON_REPRESENTATION
                         (default mean)
  README.md              what the study is and its model-number mapping
"""
import glob
import importlib.util
import numbers
import os
import re

from dlib_torch.config import hyperparams
from dlib_torch.utils.errors import UserError

DEFAULT_MODEL_CONFIG = os.path.join("model_configs", "shared.gin")
VISUALIZE_ARGUMENTS = ("num_animations", "num_frames", "fps", "num_points_irs")
# The trainers a study's model may name: dtl_train's (unsupervised) and dtl_train_weakly_supervised's (weak).
TRAINERS = ("unsupervised", "weak")


class Study:
    """Interface of a study (disentanglement_lib's config/study.py), with the number of models."""

    def get_model_config(self, model_num=0):
        """Returns (gin bindings, gin config file) to train model `model_num`."""
        raise NotImplementedError()

    def get_postprocess_config_files(self):
        """Returns the postprocessing gin files."""
        raise NotImplementedError()

    def get_eval_config_files(self):
        """Returns the evaluation (metric) gin files."""
        raise NotImplementedError()

    def num_models(self):
        """Number of model numbers in the study (valid ones are 0 .. num_models() - 1)."""
        raise NotImplementedError()

    def get_trainer(self, model_num=0):
        """The trainer of model `model_num`, one of TRAINERS (default 'unsupervised')."""
        del model_num
        return "unsupervised"

    def get_visualize_options(self):
        """Keyword arguments of the visualisation of every model (default: none, the reference's)."""
        return {}

    def get_reason_configs(self):
        """Returns (abstract-reasoning gin files, name of the representation they read); default none."""
        return [], None

    def print_model_config(self, model_num=0):
        """Prints the gin file and bindings that train model `model_num`."""
        model_bindings, model_config_file = self.get_model_config(model_num)
        print("Gin base config for model training:")
        print("--")
        print(model_config_file)
        print()
        print("Gin bindings for model training:")
        print("--")
        for binding in model_bindings:
            print(binding)
        trainer = self.get_trainer(model_num)
        if trainer != "unsupervised":
            print()
            print("Trainer: {} (pairs of observations, as dtl_train_weakly_supervised)".format(trainer))

    def print_postprocess_config(self):
        """Prints the postprocessing gin files."""
        print("Gin config files for postprocessing (random seeds may be set later):")
        print("--")
        for path in self.get_postprocess_config_files():
            print(path)

    def print_eval_config(self):
        """Prints the evaluation gin files."""
        print("Gin config files for evaluation (random seeds may be set later):")
        print("--")
        for path in self.get_eval_config_files():
            print(path)


class FolderStudy(Study):
    """A study defined by a folder (see the module docstring); `sweep.py` is loaded on first use."""

    def __init__(self, folder, name=None):
        self.folder = os.path.abspath(folder)
        self.name = name or os.path.basename(os.path.normpath(self.folder))
        self._sweep = None
        self._configs = None

    def __repr__(self):
        return "FolderStudy({!r})".format(self.folder)

    @property
    def sweep(self):
        """The study's sweep module."""
        if self._sweep is None:
            self._sweep = load_sweep_module(self.folder)
        return self._sweep

    def get_configs(self):
        """Every model's setting {gin parameter: value}, in model-number order."""
        if self._configs is None:
            self._configs = list(self.sweep.get_config())
        return self._configs

    def num_models(self):
        return len(self.get_configs())

    def get_config(self, model_num):
        """The setting {gin parameter: value} of model `model_num`; out of range is a UserError."""
        configs = self.get_configs()
        if not isinstance(model_num, numbers.Integral) or not 0 <= model_num < len(configs):
            raise UserError("model number {} is not in study '{}', whose models are numbered 0 to {}".format(
                model_num, self.name, len(configs) - 1))
        return configs[int(model_num)]

    def get_model_config(self, model_num=0):
        config = self.get_config(model_num)
        choose_file = getattr(self.sweep, "get_model_config_file", None)
        relative = choose_file(config) if choose_file else DEFAULT_MODEL_CONFIG
        path = os.path.join(self.folder, relative)
        if not os.path.isfile(path):
            raise UserError("study '{}': model config file {} does not exist".format(self.name, path))
        return hyperparams.to_bindings(config), path

    def get_trainer(self, model_num=0):
        choose = getattr(self.sweep, "get_trainer", None)
        trainer = choose(self.get_config(model_num)) if choose else "unsupervised"
        if trainer not in TRAINERS:
            raise UserError("study '{}': get_trainer returned {!r} for model {}; it must be one of {}".format(
                self.name, trainer, model_num, ", ".join(TRAINERS)))
        return trainer

    def get_visualize_options(self):
        options = dict(getattr(self.sweep, "VISUALIZE_OPTIONS", {}))
        unknown = sorted(set(options) - set(VISUALIZE_ARGUMENTS))
        if unknown:
            raise UserError("study '{}': VISUALIZE_OPTIONS has unknown arguments {}; valid: {}".format(
                self.name, ", ".join(unknown), ", ".join(VISUALIZE_ARGUMENTS)))
        return options

    def get_postprocess_config_files(self):
        return self._gin_files("postprocess_configs")

    def get_reason_configs(self):
        folder = getattr(self.sweep, "REASON_CONFIG_DIR", None)
        if folder is None:
            return [], None
        return self._gin_files(folder), getattr(self.sweep, "REASON_REPRESENTATION", "mean")

    def get_eval_config_files(self):
        return self._gin_files("metric_configs")

    def _gin_files(self, subfolder):
        files = sorted(glob.glob(os.path.join(self.folder, subfolder, "*.gin")))
        if not files:
            raise UserError("study '{}' has no gin files in {}".format(
                self.name, os.path.join(self.folder, subfolder)))
        return files


def load_sweep_module(folder):
    """Imports `<folder>/sweep.py` under a private module name; a missing or broken file is a UserError."""
    path = os.path.join(folder, "sweep.py")
    if not os.path.isfile(path):
        raise UserError("{} is not a study folder: it has no sweep.py (a study folder holds sweep.py, "
                        "model_configs/, postprocess_configs/ and metric_configs/)".format(folder))
    module_name = "dlib_torch_study_sweep_" + re.sub(r"\W", "_", os.path.abspath(folder))
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise UserError("cannot load {}: {}: {}".format(path, type(e).__name__, e)) from e
    if not callable(getattr(module, "get_config", None)):
        raise UserError("{} must define get_config() returning one setting per model number".format(path))
    return module
