"""The evaluation stage (`dtl_evaluate`): scores a postprocessed representation with one metric.

Reads `<input_dir>/exported/representation.pt` and writes `<output_dir>/results/` (the input's records carried
forward, plus those of step `evaluation`: the metric's keys, `elapsed_time` and `uuid`). Every metric module in
dlib_torch/evaluation/metrics/ is imported, so `evaluation.evaluation_fn = @<gin name>` can name any of them.
A metric gets, besides the reference's three arguments, `artifact_dir = <input_dir>/artifacts/<evaluation.name>`
if its signature names it (as the reference), and `model_dir`, the trained model's directory, if its signature
names that (a dlib_torch addition for metrics that need the model itself, such as held_out_reconstruction; those
get the real data set). Pictures a metric asks for (unified_scores' matrices) are handed over by the metric and
drawn here, after it returns (metrics/artifacts.py). How the representation is fed to the metric (codes cached
per observation, or direct encoding) is decided in metric_inputs.py; results are the same either way.
Metrics sample factors independently, whatever the training drew; `evaluation.factor_sampling = 'training'`
opts into the factor sampling of the model's training record (correlated pairs; recorded as
`evaluation_config.evaluation.factor_sampling` and `evaluation_config.factor_sampling.*`).
"""
import dataclasses
import importlib
import inspect
import os
import pkgutil
import re
import time
from typing import Optional

from absl import logging
import gin
import numpy as np
import torch

from dlib_torch.data.ground_truth import factor_sampling as factor_sampling_lib
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import splits
from dlib_torch.evaluation import input_checks
from dlib_torch.evaluation import metric_inputs
from dlib_torch.evaluation import metrics as metrics_package
from dlib_torch.evaluation.metrics import artifacts as metric_artifacts
from dlib_torch.evaluation.metrics import utils as metric_utils
from dlib_torch.utils import auto_dataset
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import exported_modules
from dlib_torch.utils import gin_utils
from dlib_torch.utils import output_dirs
from dlib_torch.utils import progress
from dlib_torch.utils import results
from dlib_torch.utils import sklearn_warnings
from dlib_torch.utils import threads
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError

METRIC_ARGUMENTS = ("ground_truth_data", "representation_function", "random_state")
# evaluation.factor_sampling: independent factors (the default, as Träuble et al. evaluate), or the training's.
FACTOR_SAMPLING_CHOICES = ("independent", "training")


def _import_metric_modules():
    """Imports every module of the metrics package, registering their gin configurables."""
    for module_info in pkgutil.iter_modules(metrics_package.__path__):
        importlib.import_module("{}.{}".format(metrics_package.__name__, module_info.name))


_import_metric_modules()


@dataclasses.dataclass
class RuntimeSettings:
    device: str
    cache_codes: bool
    encode_batch_size: int
    fill_grid_fraction: float
    max_cache_megabytes: float
    num_threads: Optional[int] = None
    mode: str = "parity"


# Images per encoder call by default. On the CPU a conv encoder is fastest on batches that fit in the caches:
# measured here, 0.08 ms per dSprites image at 64-128 images per call against 0.20 ms at 1024.
CPU_ENCODE_BATCH_SIZE = 128
CUDA_ENCODE_BATCH_SIZE = 1024


@gin.configurable("evaluation_runtime")
def evaluation_runtime(device="auto", cache_codes=True, encode_batch_size=None, fill_grid_fraction=0.25,
                       max_cache_megabytes=2048, num_threads=None, mode="parity"):
    """How an evaluation runs: without changing its results (see code_cache.py), except in the fast `mode`.

    Args:
      device: 'auto' (CUDA when available), 'cpu' or 'cuda'.
      cache_codes: encode each observation of a deterministic data set once per process (else encode directly).
      encode_batch_size: images per encoder call (None: 128 on the CPU, 1024 on a GPU).
      fill_grid_fraction: once this fraction of the factor grid has been encoded on demand, encode the rest in
        one sweep (None: never).
      max_cache_megabytes: largest code cache kept in memory per model and data set.
      num_threads: CPU threads of torch and BLAS (None: what the process may use, see utils/threads.py).
      mode: 'parity' (default: every step as the reference's code) or 'fast': the boosted trees of DCI and of
        the boosted-tree downstream task grown by compiled loops (metrics/compiled_boosted_trees.py) and cached
        codes encoded by a frozen TorchScript encoder (code_cache.optimized_encoder). Scores move only where
        splits tie up to rounding and by the encoder's 1e-8 (benchmarks/bench_evaluate.py --mode=fast prints
        the deviations); recorded as `evaluation_config.evaluation_runtime.mode`, so that an aggregate can keep
        fast and parity numbers apart.
    """
    validation.check_choice("evaluation_runtime.mode", mode, metric_utils.EVALUATION_MODES)
    if encode_batch_size is None:
        on_cpu = device_lib.select_device(device).type == "cpu"
        encode_batch_size = CPU_ENCODE_BATCH_SIZE if on_cpu else CUDA_ENCODE_BATCH_SIZE
    if int(encode_batch_size) < 1:
        raise ConfigError("evaluation_runtime.encode_batch_size must be at least 1")
    if num_threads is not None:
        num_threads = validation.check_int("evaluation_runtime.num_threads", num_threads, minimum=1)
    return RuntimeSettings(device, bool(cache_codes), int(encode_batch_size), fill_grid_fraction,
                           float(max_cache_megabytes), num_threads, mode)


def evaluate_with_gin(model_dir, output_dir, overwrite=False, gin_config_files=None, gin_bindings=None):
    """Parses the gin files and bindings (errors name the culprit), evaluates, clears gin.

    Args:
      model_dir: directory of the postprocessed representation (`<out>/postprocessed/<name>`).
      output_dir: directory of the scores, e.g. `<out>/metrics/<name>/<metric>`.
      overwrite: replace a finished `output_dir`.
      gin_config_files: gin files to parse, in order.
      gin_bindings: gin bindings parsed after the files.
    """
    try:
        with gin_utils.configured(gin_config_files, gin_bindings):
            evaluate(model_dir, output_dir, overwrite)
    except ConfigError as e:
        raise _explain_unknown_metric(e) from None


@gin.configurable("evaluation", denylist=["model_dir", "output_dir", "overwrite"])
def evaluate(model_dir, output_dir, overwrite=False, evaluation_fn=gin.REQUIRED, random_seed=gin.REQUIRED, name="",
             factor_sampling="independent"):
    """Loads a representation module and scores it with `evaluation_fn`.

    Args:
      model_dir: directory of the postprocessed representation.
      output_dir: directory of the scores.
      overwrite: replace a finished `output_dir`.
      evaluation_fn: the metric, e.g. `@mig` (see metrics/).
      random_seed: seed of the metric's numpy RandomState (and of the sampled representation's noise).
      name: names the metric in the records and its artifact directory.
      factor_sampling: 'independent' (every factor uniform and independent, whatever the training drew) or
        'training' (the `factor_sampling.*` recorded in the model's train.gin, e.g. its correlated pairs).
    """
    input_checks.require_representation(model_dir)
    metric_parameters = _metric_parameters(evaluation_fn)
    validate_parameters(evaluation_fn, random_seed)
    validation.check_choice("evaluation.factor_sampling", factor_sampling, FACTOR_SAMPLING_CHOICES)
    bound = auto_dataset.bound_factor_sampling_parameters()
    if bound:
        raise ConfigError("{} is bound in the evaluation config; an evaluation takes its factor sampling from "
                          "evaluation.factor_sampling ('independent', or 'training': the model's recorded one), so "
                          "remove the binding".format(bound[0]))
    inputs = [model_dir] + input_checks.trained_model_candidates(model_dir)
    with output_dirs.claim(output_dir, "evaluation", overwrite, inputs=inputs):
        experiment_timer = time.time()
        metric_name = name or getattr(evaluation_fn, "__name__", "metric")
        runtime = evaluation_runtime()
        threads.configure(runtime.num_threads, "evaluation_runtime.num_threads",
                          lambda line: logging.info("%s: %s", metric_name, line))
        logging.info("Evaluating %s with %s into %s", model_dir, metric_name, output_dir)
        auto_dataset.resolve(os.path.join(model_dir, "results", "gin", "postprocess.gin"))
        auto_dataset.resolve_held_out(os.path.join(model_dir, "results", "gin", "train.gin"))
        # The whole data set unless the metric config restricts it to a side of a held-out split.
        dataset = splits.apply_held_out_split(named_data.get_named_ground_truth_data())
        if factor_sampling == "training":
            auto_dataset.resolve_factor_sampling(os.path.join(model_dir, "results", "gin", "train.gin"))
            dataset = factor_sampling_lib.apply_factor_sampling(dataset)
        device = device_lib.select_device(runtime.device)
        module = exported_modules.load(exported_modules.exported_path(model_dir, exported_modules.REPRESENTATION),
                                       device)

        extra_arguments = {}
        if "artifact_dir" in metric_parameters:
            extra_arguments["artifact_dir"] = os.path.join(model_dir, "artifacts", name)
        torch.manual_seed(int(random_seed))  # the noise of a sampled representation encoded directly
        if "model_dir" in metric_parameters:
            extra_arguments["model_dir"] = metric_inputs.trained_model_dir(model_dir)
            data = dataset
            representation_function = exported_modules.numpy_function(module, device, runtime.encode_batch_size)
        else:
            data, representation_function, mode = metric_inputs.metric_inputs(dataset, module, random_seed, device,
                                                                               runtime)
            logging.info("Evaluating %s with %s codes", model_dir, mode)
        with progress.task(metric_name), sklearn_warnings.counted(metric_name), \
                metric_utils.evaluation_mode(runtime.mode), metric_artifacts.collected() as handed:
            results_dict = evaluation_fn(data, representation_function,
                                         random_state=np.random.RandomState(random_seed), **extra_arguments)
        draw_artifacts(handed)
        results_dict["elapsed_time"] = time.time() - experiment_timer
        results.update_result_directory(os.path.join(output_dir, "results"), "evaluation", results_dict,
                                        os.path.join(model_dir, "results"))
        logging.info("%s: scored in %.1f s into %s", metric_name, results_dict["elapsed_time"],
                     os.path.join(output_dir, "results", "aggregate", "evaluation.json"))


def draw_artifacts(handed):
    """Draws the pictures a metric handed over (metrics/artifacts.py): a metric computes numbers only."""
    if not handed:
        return
    from dlib_torch.visualize import visualize_scores  # pylint: disable=import-outside-toplevel (matplotlib)
    for artifact in handed:
        visualize_scores.draw_factor_code_matrix(artifact)


# Metric parameters checked by name: sample sizes and counts (an int, or a list of ints for downstream tasks).
_COUNT_PARAMETERS = ("num_train", "num_test", "num_eval", "num_variance_estimate", "batch_size", "n_experiment",
                     "num_test_points_per_class", "num_samples", "num_data_points", "num_bins")
_FLAG_PARAMETERS = ("fix_num_active_dims", "continuous_factors", "paper_variant", "fix_global_random_state")


def validate_parameters(evaluation_fn, random_seed):
    """Checks `evaluation.random_seed` and the metric's counts and flags before any work (one-line errors)."""
    validation.check_int("evaluation.random_seed", random_seed, minimum=0, maximum=2**32 - 1)
    configurable_name = validation.configurable_name(evaluation_fn)
    values = {key: parameter.default for key, parameter in inspect.signature(evaluation_fn).parameters.items()
              if parameter.default is not inspect.Parameter.empty and parameter.default is not gin.REQUIRED}
    try:
        values.update(gin.get_bindings(evaluation_fn))
    except Exception:  # not a gin configurable: only its defaults
        pass
    for key, value in values.items():
        label = "{}.{}".format(configurable_name, key)
        if key in _COUNT_PARAMETERS and value is not None:
            for item in (value if isinstance(value, (list, tuple)) else [value]):
                validation.check_int(label, item, minimum=1)
        elif key in _FLAG_PARAMETERS:
            validation.check_bool(label, value)
        elif key == "num_factors_to_remove":
            validation.check_int(label, value, minimum=0)
    try:
        num_bins = gin.query_parameter("discretizer.num_bins")
    except ValueError:  # not bound: the metric does not discretize
        return
    validation.check_int("discretizer.num_bins", num_bins, minimum=1)


def registered_metric_names():
    """gin names of the registered metrics (configurables taking the reference's three metric arguments)."""
    names = set()
    for _, configurable in gin.config._REGISTRY.items():  # pylint: disable=protected-access
        try:
            parameters = list(inspect.signature(configurable.wrapped).parameters)
        except (TypeError, ValueError):
            continue
        if tuple(parameters[:3]) == METRIC_ARGUMENTS:
            names.add(configurable.name)
    return sorted(names)


def _metric_parameters(evaluation_fn):
    """The names of the metric's parameters; a one-line error if `evaluation_fn` is not a metric."""
    try:
        parameters = list(inspect.signature(evaluation_fn).parameters)
    except (TypeError, ValueError):
        parameters = []
    if tuple(parameters[:3]) != METRIC_ARGUMENTS:
        raise ConfigError("evaluation.evaluation_fn is {!r}, which is not a metric (a metric takes {}); "
                          "registered metrics: {}".format(getattr(evaluation_fn, "__name__", evaluation_fn),
                                                          ", ".join(METRIC_ARGUMENTS),
                                                          ", ".join(registered_metric_names())))
    return parameters


def _explain_unknown_metric(error):
    """Turns gin's unknown-reference error on `evaluation.evaluation_fn` into one naming the known metrics."""
    message = str(error)
    match = re.search(r"No configurable matching reference '@?([^']+)'", message)
    if match is None or "evaluation.evaluation_fn" not in message:
        return error
    where = message.split(":")[0]
    return ConfigError("{}: unknown metric '{}' in evaluation.evaluation_fn; registered metrics: {}".format(
        where, match.group(1), ", ".join(registered_metric_names())))
