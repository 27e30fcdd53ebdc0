"""What dtl_reproduce_weakly_supervised and dtl_reproduce_semi_supervised share: the reference's flags, and
running the steps of one model (train, visualize, postprocess, validation, evaluation) in order, skipping
finished ones (unless --overwrite) under one lock on the output directory, SIGTERM/SIGUSR1 -> exit 75.
"""
import functools
import glob
import importlib
import os

from absl import flags

from dlib_torch.cli import reproduce
from dlib_torch.utils import output_dirs
from dlib_torch.utils.errors import UserError


def define_flags(module_name):
    """The flags of the reference's dlib_reproduce_{weakly,semi}_supervised (both commands take all of them)."""
    # Filed under the command's own module, so that its --help lists them.
    string, multi_string, integer, boolean, floating = (
        functools.partial(define, module_name=module_name) for define in (
            flags.DEFINE_string, flags.DEFINE_multi_string, flags.DEFINE_integer, flags.DEFINE_boolean,
            flags.DEFINE_float))
    string("output_directory", None, "Output directory of the model's pipeline.")
    string("model_dir", None, "Directory holding an already trained model in <model_dir>/model: "
                        "skips training.")
    multi_string("gin_bindings", [], "Gin bindings of the training (repeatable).")
    string("gin_model_config_dir", None, "Directory of the model's gin file.")
    string("gin_model_config_name", None, "File name of the model's gin file.")
    string("gin_postprocess_config_glob", None, "Glob of the postprocessing gin files.")
    string("gin_evaluation_config_glob", None, "Glob of the metric gin files.")
    string("gin_validation_config_glob", None, "Glob of the validation gin files (semi-supervised).")
    integer("pipeline_seed", None, "Seed of the seeds of the pipeline's steps.", lower_bound=0)
    integer("eval_seed", None, "Seed of the evaluation seeds (semi-supervised).", lower_bound=0)
    boolean("overwrite", False, "Redo finished steps (default: skip them).")
    integer("supervised_seed", None, "Seed of the labelled set (semi-supervised).", lower_bound=0)
    integer("num_labelled_samples", None, "Size of the labelled set (semi-supervised).",
                         lower_bound=1)
    floating("train_percentage", None, "Fraction of the labelled set used for training "
                       "(semi-supervised).")
    string("labeller_fn", None, "Labeller of the labelled set, e.g. @perfect_labeller "
                        "(semi-supervised).")
    # dlib_torch additions (the reference's values by default): the size of the visualisations.
    integer("num_animations", 5, "Latent traversal animations of the visualisation.", lower_bound=1)
    integer("num_frames", 20, "Frames per animation of the visualisation.", lower_bound=2)
    integer("num_points_irs", 10000, "Points of the visualisation's interventional-effect plots.",
                         lower_bound=1)
    flags.mark_flag_as_required("output_directory")


def visualize_step(FLAGS, model_dir):
    """The visualisation of the trained model, sized by the flags."""
    return reproduce.Step("visualize", "model", model_dir, os.path.join(FLAGS.output_directory, "visualizations"),
                          [], [], {"num_animations": FLAGS.num_animations, "num_frames": FLAGS.num_frames,
                                   "num_points_irs": FLAGS.num_points_irs})


def model_config_file(FLAGS):
    """--gin_model_config_dir/--gin_model_config_name, checked to exist."""
    if not FLAGS.gin_model_config_name:
        raise UserError("--gin_model_config_name is required to train a model (or pass --model_dir)")
    path = os.path.join(FLAGS.gin_model_config_dir or "", FLAGS.gin_model_config_name)
    if not os.path.exists(path):
        raise UserError("the model's gin file {} does not exist; check --gin_model_config_dir and "
                        "--gin_model_config_name".format(path))
    return path


def config_files(pattern, flag_name, required=True):
    """The sorted files matching a --gin_*_config_glob flag; a one-line error if none (and required)."""
    if not pattern:
        if required:
            raise UserError("--{} is required".format(flag_name))
        return []
    files = sorted(glob.glob(pattern))
    if not files and required:
        raise UserError("--{}={} matches no file".format(flag_name, pattern))
    return files


def stem(path):
    return os.path.basename(path).replace(".gin", "")


def run_step(step, overwrite, train_with_gin):
    """Runs one step through its stage's entry function (`train_with_gin` trains)."""
    if step.kind == "train":
        train_with_gin(step.output_dir, overwrite, step.config_files, step.bindings)
    elif step.kind == "validation":
        from dlib_torch.validation import validate
        validate.validate_with_gin(step.input_dir, step.output_dir, overwrite, step.config_files, step.bindings)
    else:
        reproduce.run_step(step, overwrite)


def representation_steps(FLAGS, model_dir, random_state):
    """(steps, configs): the visualisation, then one postprocessing per --gin_postprocess_config_glob file, its
    seed drawn next from `random_state`, as the reference."""
    steps = [visualize_step(FLAGS, model_dir)]
    configs = config_files(FLAGS.gin_postprocess_config_glob, "gin_postprocess_config_glob")
    for config in configs:
        bindings = ["postprocess.random_seed = {}".format(random_state.randint(2**32)),
                    "postprocess.name = '{}'".format(stem(config))]
        steps.append(reproduce.Step("postprocess", stem(config), model_dir,
                                    os.path.join(FLAGS.output_directory, "postprocessed", stem(config)), [config],
                                    bindings))
    return steps, configs


def metric_steps(FLAGS, kind, postprocess_configs, metric_configs, random_state, record_name, extra_bindings=None):
    """One step of `kind` (evaluation, validation) per representation and metric config, into
    <output>/<metrics|validation>/<representation>/<record_name(metric)>; a metric whose record_name is None
    is left out. Each step's seed `<kind>.random_seed` is drawn next from `random_state` (None: no seed is drawn,
    `extra_bindings(metric)` sets it)."""
    folder = "metrics" if kind == "evaluation" else kind
    steps = []
    for config in postprocess_configs:
        representation = os.path.join(FLAGS.output_directory, "postprocessed", stem(config))
        for metric_config in metric_configs:
            name = record_name(stem(metric_config))
            if name is None:
                continue
            bindings = [] if random_state is None else [
                "{}.random_seed = {}".format(kind, random_state.randint(2**32))]
            bindings += (extra_bindings(stem(metric_config)) if extra_bindings else []) + [
                "{}.name = '{}'".format(kind, name)]
            steps.append(reproduce.Step(kind, name, representation,
                                        os.path.join(FLAGS.output_directory, folder, stem(config), name),
                                        [metric_config], bindings))
    return steps


def pipeline_main(name, steps, trainer_module):
    """The body of both commands: the steps in order under the output directory's lock, finished ones skipped
    unless --overwrite, SIGTERM/SIGUSR1 -> exit 75 (the command wrapper); returns the closing line."""

    trainer = importlib.import_module(trainer_module)
    FLAGS = flags.FLAGS
    with output_dirs.locked(FLAGS.output_directory):
        reproduce.run_steps(steps, FLAGS.overwrite, log=lambda line: print(line, flush=True), name=name,
                            runner=lambda step, overwrite: run_step(step, overwrite, trainer.train_with_gin))
    return "complete in {}".format(FLAGS.output_directory)
