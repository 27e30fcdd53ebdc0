"""The UDR stage (`dtl_udr`): scores several trained models against each other (disentanglement_lib's
evaluation/udr/evaluate.py).

`evaluate(model_dirs, output_dir)` writes one record, `<output_dir>/results/` (the first model's records carried
forward, plus step `evaluation` with `model_scores` in the order of `model_dirs`,
`pairwise_disentanglement_scores` and, when asked, `raw_correlations`). `evaluate_study` ranks the finished
models of a study within groups (e.g. same data set and method) and writes one record per model,
`<model output>/metrics/mean/udr/results/`, beside its other metrics, so `dtl_aggregate` collects it.

Representations are the trained models' exported encoders (`model/exported/gaussian_encoder.pt`): the mean,
and the KL divergence of each latent from the prior averaged over each batch.

The gin name of `evaluate` is `evaluation`, as the reference's, so its gin files parse unchanged. That name
would be ambiguous beside dlib_torch.evaluation.evaluate's, so it is registered only when a UDR run starts
(`evaluate_with_gin`, `evaluate_study_with_gin`: `dtl_udr`'s process), not when this module is imported.
"""
import contextlib
import inspect
import os
import time

import gin
import numpy as np

from dlib_torch.config import output_paths
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import splits
from dlib_torch.evaluation.udr.metrics import udr  # pylint: disable=unused-import (registers @udr_sklearn)
from dlib_torch.utils import auto_dataset
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import exported_modules
from dlib_torch.utils import gin_utils
from dlib_torch.utils import output_dirs
from dlib_torch.utils import results
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import UserError

KIND = "udr"  # its records are step `evaluation` (the reference's); dtl_evaluate never replaces them

UDR_ARGUMENTS = ("ground_truth_data", "representation_functions", "random_state")
# Used when no gin file names them: the reference's UDR test settings, 100 observations per batch.
DEFAULT_BINDINGS = ["evaluation.evaluation_fn = @udr_sklearn", "evaluation.random_seed = 0",
                    "dataset.name = 'auto'", "udr_sklearn.batch_size = 100", "udr_sklearn.num_data_points = 1000"]
# Most observations per encoder call (UDR calls it once per batch of `udr_sklearn.batch_size`).
ENCODE_CHUNK = 1024
STUDY_RECORD = os.path.join("metrics", "mean", "udr")


_CONFIGURABLE = {}


def configurable_evaluate():
    """`evaluate` registered with gin as `evaluation` (once per process; see the module docstring)."""
    if "evaluate" not in _CONFIGURABLE:
        _CONFIGURABLE["evaluate"] = gin.configurable("evaluation", denylist=["model_dirs", "output_dir", "overwrite",
                                                                            "group"])(evaluate)
    return _CONFIGURABLE["evaluate"]


def evaluate_with_gin(model_dirs, output_dir, overwrite=False, gin_config_files=None, gin_bindings=None):
    """Parses the gin files and bindings (after DEFAULT_BINDINGS), runs `evaluate`, clears gin; returns the
    results."""
    configured = configurable_evaluate()
    with gin_utils.configured(gin_config_files, DEFAULT_BINDINGS + list(gin_bindings or [])):
        return configured(model_dirs, output_dir, overwrite)


def evaluate(model_dirs, output_dir, overwrite=False, evaluation_fn=gin.REQUIRED, random_seed=gin.REQUIRED,
             name="", group=None):
    """Scores the models of `model_dirs` against each other with `evaluation_fn` (`@udr_sklearn`).

    Args:
      model_dirs: trained model directories (holding `exported/` and `results/`), at least two.
      output_dir: directory of the record; or, for a study group, one record directory per model.
      overwrite: replace finished records.
      evaluation_fn: the UDR function.
      random_seed: seed of the numpy RandomState the observations are sampled with.
      name: names the evaluation in the records.
      group: for a study group, (label, model numbers, directories carried forward into each model's record).

    Returns:
      The UDR function's results.
    """
    del name
    random_seed = validation.check_int("evaluation.random_seed", random_seed, 0, 2**32 - 1)
    _check_udr_function(evaluation_fn)
    validate_parameters()
    model_dirs = resolve_model_dirs(model_dirs)
    if group is not None:
        return _evaluate_group(model_dirs, output_dir, overwrite, evaluation_fn, random_seed, group)
    output_dirs.check_output_directory(output_dir, "evaluation", overwrite, inputs=model_dirs, kind=KIND)
    with output_dirs.claim(output_dir, "evaluation", overwrite, inputs=model_dirs, kind=KIND):
        timer = time.time()
        results_dict = _score(model_dirs, evaluation_fn, random_seed)
        results_dict["elapsed_time"] = time.time() - timer
        results.update_result_directory(os.path.join(output_dir, "results"), "evaluation", results_dict,
                                        os.path.join(model_dirs[0], "results"))
    return results_dict


def _score(model_dirs, evaluation_fn, random_seed):
    """Runs the UDR function on the models (dataset.name 'auto' is the first model's data set)."""
    auto_dataset.resolve(os.path.join(model_dirs[0], "results", "gin", "train.gin"))
    dataset = splits.apply_held_out_split(named_data.get_named_ground_truth_data())
    device = device_lib.select_device("auto")
    functions = [gaussian_kl_representation(model_dir, device) for model_dir in model_dirs]
    return evaluation_fn(dataset, functions, random_state=np.random.RandomState(random_seed))


def gaussian_kl_representation(model_dir, device):
    """The model's representation function for UDR: observations -> (means [B, D], mean KL per latent [D])."""
    encoder = exported_modules.numpy_function(
        exported_modules.load(exported_modules.exported_path(model_dir, exported_modules.GAUSSIAN_ENCODER),
                              device), device, ENCODE_CHUNK)

    def representation_function(observations):
        mean, logvar = (np.asarray(x, dtype=np.float64) for x in encoder(observations))
        return mean, np.mean(0.5 * (np.square(mean) + np.exp(logvar) - logvar - 1.), axis=0)

    return representation_function


def resolve_model_dirs(model_dirs):
    """The trained model directories (a `dtl_reproduce` output directory stands for its `model/`)."""
    model_dirs = [d for d in model_dirs if d]
    if len(model_dirs) < 2:
        raise UserError("--model_dirs names {} model(s); UDR compares at least two trained models".format(
            len(model_dirs)))
    resolved = []
    for model_dir in model_dirs:
        if not os.path.isdir(os.path.join(model_dir, "exported")) and \
                os.path.isdir(os.path.join(model_dir, "model", "exported")):
            model_dir = os.path.join(model_dir, "model")
        output_dirs.require_finished(model_dir, "train", "train it first with dtl_train --model_dir={}".format(
            model_dir))
        encoder = exported_modules.exported_path(model_dir, exported_modules.GAUSSIAN_ENCODER)
        if not os.path.exists(encoder):
            raise UserError("{} has no exported encoder ({}); UDR needs models with an encoder (not the "
                            "ground-truth decoder)".format(model_dir, encoder))
        resolved.append(model_dir)
    if len(set(os.path.realpath(d) for d in resolved)) < len(resolved):
        raise UserError("--model_dirs names the same model twice; give distinct models")
    configs = {d: _train_config(d) for d in resolved}
    for key, what in (("encoder.num_latent", "numbers of latents"), ("dataset.name", "data sets")):
        values = {d: config.get(key) for d, config in configs.items()}
        if len(set(values.values())) > 1:
            raise UserError("the models have different {} ({}); UDR compares models of one size trained on one "
                            "data set".format(what, ", ".join("{}: {}".format(d, v) for d, v in values.items())))
    return resolved


def _train_config(model_dir):
    """The model's train.gin as {scope.param: value}; its absence is a one-line error."""
    path = os.path.join(model_dir, "results", "gin", "train.gin")
    if not os.path.isfile(path):
        raise UserError("{} has no {}, so its data set and size are unknown; retrain it, or restore the "
                        "file".format(model_dir, path))
    return results.gin_dict(path)


def validate_parameters():
    """Checks the bound `udr_sklearn` parameters before any work; returns them."""
    def bound(name, default):
        return gin_utils.query_parameter_or("udr_sklearn." + name, default)
    batch_size = validation.check_int("udr_sklearn.batch_size", bound("batch_size", None), 1)
    num_data_points = validation.check_int("udr_sklearn.num_data_points", bound("num_data_points", None), 2)
    if num_data_points % batch_size:
        raise ConfigError("udr_sklearn.num_data_points = {} is not a multiple of udr_sklearn.batch_size = {}; "
                          "make it one".format(num_data_points, batch_size))
    validation.check_choice("udr_sklearn.correlation_matrix", bound("correlation_matrix", "lasso"),
                            ("lasso", "spearman"))
    validation.check_bool("udr_sklearn.filter_low_kl", bound("filter_low_kl", True))
    validation.check_bool("udr_sklearn.include_raw_correlations", bound("include_raw_correlations", True))
    validation.check_float("udr_sklearn.kl_filter_threshold", bound("kl_filter_threshold", 0.01), 0.)


def _check_udr_function(evaluation_fn):
    try:
        parameters = tuple(inspect.signature(evaluation_fn).parameters)[:3]
    except (TypeError, ValueError):
        parameters = ()
    if parameters != UDR_ARGUMENTS:
        raise ConfigError("evaluation.evaluation_fn is {!r}, which is not a UDR function (one taking {}); use "
                          "@udr_sklearn".format(getattr(evaluation_fn, "__name__", evaluation_fn),
                                                ", ".join(UDR_ARGUMENTS)))


# ---------------------------------------------------------------------------------------------------------
# Studies: one UDR ranking per group of finished models, one record per model.

def evaluate_study_with_gin(study, output_template, group_by, overwrite=False, gin_config_files=None,
                            gin_bindings=None, log=print):
    """Parses gin (after DEFAULT_BINDINGS and `evaluation.name = 'udr'`), runs `evaluate_study`, clears gin."""
    bindings = DEFAULT_BINDINGS + ["evaluation.name = 'udr'"] + list(gin_bindings or [])
    configurable_evaluate()
    with gin_utils.configured(gin_config_files, bindings):
        return evaluate_study(study, output_template, group_by, overwrite, log=log)


def study_models(study, output_template, output_directory_for):
    """(model_num, model output directory) of every finished model of `study`."""
    found = []
    for model_num in range(study.num_models()):
        directory = output_directory_for(output_template, study.name, model_num, None)
        if results.step_finished(os.path.join(directory, "model"), "train") and os.path.exists(
                exported_modules.exported_path(os.path.join(directory, "model"), exported_modules.GAUSSIAN_ENCODER)):
            found.append((model_num, directory))
    return found


def group_models(models, group_by):
    """{group label: [(model_num, directory), ...]} by the values of the `group_by` train gin parameters."""
    groups = {}
    for model_num, directory in models:
        config = _train_config(os.path.join(directory, "model"))
        missing = [key for key in group_by if key not in config]
        if missing:
            raise UserError("--group_by names {} that model {} ({}) does not record in its train.gin; use "
                            "parameters of train.gin such as dataset.name, model.name".format(
                                ", ".join(missing), model_num, directory))
        label = ", ".join("{}={}".format(key, config[key]) for key in group_by)
        groups.setdefault(label, []).append((model_num, directory))
    return groups


def evaluate_study(study, output_template, group_by, overwrite=False, log=print):
    """Ranks the finished models of `study` by UDR within each group; one record per model.

    Args:
      study: a dlib_torch.config.study.Study.
      output_template: the models' output directories as dtl_reproduce's --output_directory.
      group_by: train gin parameters whose values define a group (e.g. ['dataset.name', 'model.name']).
      overwrite: replace finished UDR records of a group whose membership changed.
      log: where progress lines go.

    Returns:
      {group label: {model_num: score}} of the groups scored in this run.
    """
    validate_parameters()
    models = study_models(study, output_template, output_paths.output_directory_for)
    if not models:
        raise UserError("no finished model of study {} under {}; train some first with dtl_reproduce "
                        "--study={} --model_num=N".format(study.name, output_template, study.name))
    groups = group_models(models, group_by)
    dataset_name = gin_utils.query_parameter_or("dataset.name", "auto")
    scored = {}
    for label, members in sorted(groups.items()):
        model_nums = [model_num for model_num, _ in members]
        if len(members) < 2:
            log("dtl_udr: group {} has one finished model ({}); UDR needs at least two, skipped".format(
                label, model_nums[0]))
            continue
        record_dirs = [os.path.join(directory, STUDY_RECORD) for _, directory in members]
        if all(_recorded_group(d) == model_nums for d in record_dirs) and not overwrite:
            log("dtl_udr: group {} (models {}) already scored".format(label, model_nums))
            continue
        model_dirs = [os.path.join(directory, "model") for _, directory in members]
        carried = [_carried_records(directory) for _, directory in members]
        with gin.unlock_config():  # 'auto' is resolved again for each group
            gin.bind_parameter("dataset.name", dataset_name)
        scores = configurable_evaluate()(model_dirs, record_dirs, overwrite, group=(label, model_nums, carried))
        scored[label] = dict(zip(model_nums, scores["model_scores"]))
        log("dtl_udr: group {}: {}".format(label, ", ".join("model {} {:.3f}".format(n, s)
                                                              for n, s in scored[label].items())))
    return scored


def _evaluate_group(model_dirs, record_dirs, overwrite, evaluation_fn, random_seed, group):
    """UDR of a study group, written as one record per model (key `udr`) in `record_dirs`."""
    label, model_nums, carried = group
    for record_dir, model_dir in zip(record_dirs, model_dirs):
        output_dirs.check_output_directory(record_dir, "evaluation", overwrite, inputs=[model_dir], kind=KIND)
    with contextlib.ExitStack() as stack:
        for record_dir, model_dir in zip(record_dirs, model_dirs):
            stack.enter_context(output_dirs.claim(record_dir, "evaluation", overwrite, inputs=[model_dir],
                                                  kind=KIND))
        timer = time.time()
        scores = _score(model_dirs, evaluation_fn, random_seed)
        elapsed = time.time() - timer
        pairwise = np.asarray(scores["pairwise_disentanglement_scores"])[..., 0]
        for position, record_dir in enumerate(record_dirs):
            record = {
                "udr": scores["model_scores"][position],
                "udr_group": label,
                "udr_group_model_nums": list(model_nums),
                "udr_pairwise_scores": pairwise[:, position].tolist(),
                "num_models": len(model_nums),
                "elapsed_time": elapsed,
            }
            results.update_result_directory(os.path.join(record_dir, "results"), "evaluation", record,
                                            carried[position])
    return scores


def _carried_records(directory):
    """The records a model's UDR record carries forward: its mean representation's, else its model's."""
    postprocessed = os.path.join(directory, "postprocessed", "mean")
    if results.step_finished(postprocessed, "postprocess"):
        return os.path.join(postprocessed, "results")
    return os.path.join(directory, "model", "results")


def _recorded_group(record_dir):
    """The model numbers a finished UDR record was ranked with, or None."""
    path = os.path.join(record_dir, "results", "json", "evaluation_results.json")
    if not results.step_finished(record_dir, "evaluation") or not os.path.exists(path):
        return None
    return results.load_record(path).get("udr_group_model_nums")
