r"""dtl_reproduce_semi_supervised: trains a semi-supervised model, validates and evaluates it
(disentanglement_lib's dlib_reproduce_semi_supervised, same flags).

Example:
  dtl_reproduce_semi_supervised --output_directory=output/semi --pipeline_seed=0 --eval_seed=0 \
      --supervised_seed=0 --num_labelled_samples=100 --train_percentage=0.9 --labeller_fn=@perfect_labeller \
      --gin_model_config_dir=configs --gin_model_config_name=s2_vae.gin \
      --gin_postprocess_config_glob='postprocess_configs/*.gin' \
      --gin_validation_config_glob='validation_configs/*.gin' --gin_evaluation_config_glob='metric_configs/*.gin'

Steps, as the reference: train (model_seed and unsupervised_data_seed drawn from RandomState(--pipeline_seed),
the supervision flags bound on `model.*` and `labeller.labeller_fn`), visualize, postprocess every config (seeds
drawn next), validation of every representation with every validation config into
validation/<post>/<metric>_validation_<supervised_seed>_<num_labelled_samples>, evaluation with seeds from
RandomState(--eval_seed) into metrics/<post>/<metric>_<supervised_seed>, and metrics/aggregated_results.json.
With --model_dir the supervision parameters are read from <model_dir>/model/results/gin/train.gin and the four
supervision flags are refused. A rerun skips finished steps and resumes training; exit 75 when preempted.
"""
import os
import re

from absl import flags
import numpy as np

from dlib_torch.cli import common
from dlib_torch.cli import supervision_pipeline
from dlib_torch.cli.reproduce import Step
from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError

NAME = "dtl_reproduce_semi_supervised"
SUPERVISION_FLAGS = ("supervised_seed", "num_labelled_samples", "train_percentage", "labeller_fn")


def supervision(FLAGS, model_dir):
    """(supervised_seed, num_labelled_samples, train_percentage, labeller_fn), from the flags when training,
    else from the trained model's records."""
    if FLAGS.model_dir is None:
        missing = [name for name in SUPERVISION_FLAGS if getattr(FLAGS, name) is None]
        if missing:
            raise UserError("training a semi-supervised model needs --{}".format(", --".join(missing)))
        if not 0.0 < FLAGS.train_percentage <= 1.0:
            raise UserError("--train_percentage={} must be in (0, 1]".format(FLAGS.train_percentage))
        return _single_values(tuple(getattr(FLAGS, name) for name in SUPERVISION_FLAGS), "--{}")
    given = [name for name in SUPERVISION_FLAGS if getattr(FLAGS, name) is not None]
    if given:
        raise UserError("--{} must not be given with --model_dir: the supervision is read from the trained "
                        "model's records".format(", --".join(given)))
    gin_file = os.path.join(model_dir, "results", "gin", "train.gin")
    if not os.path.exists(gin_file):
        raise UserError("--model_dir {} holds no finished training ({} is missing)".format(FLAGS.model_dir,
                                                                                          gin_file))
    recorded = results.gin_dict(gin_file)
    keys = ("model.supervised_data_seed", "model.num_labelled_samples", "model.train_percentage",
            "labeller.labeller_fn")
    if any(key not in recorded for key in keys):
        raise UserError("{} is not the record of a semi-supervised model (it lacks {})".format(
            gin_file, ", ".join(key for key in keys if key not in recorded)))
    return _single_values(tuple(recorded[key] for key in keys), "{} in " + gin_file, keys)


# What these values may be, since each becomes a gin binding: a number, or a configurable reference.
_SINGLE_VALUES = (r"\d+", r"\d+", r"(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", r"@[A-Za-z_][\w.]*(\(\))?")


def _single_values(values, where, names=SUPERVISION_FLAGS):
    """`values` (the four supervision settings), each checked to be one gin value: a line break or a second
    statement would otherwise run as gin (an `import` line runs code)."""
    for value, name, pattern in zip(values, names, _SINGLE_VALUES):
        if not re.fullmatch(pattern, str(value).strip()):
            raise UserError("{} = {!r} is not a single value; it must match {} (e.g. {})".format(
                where.format(name), value, pattern, "@perfect_labeller" if name.endswith("labeller_fn") else "100"))
    return values


def plan(FLAGS):
    """The steps of the pipeline, with the reference's seeds."""
    random_state = np.random.RandomState(FLAGS.pipeline_seed)
    output_directory = FLAGS.output_directory
    # Both seeds are drawn even when training is skipped, so that later seeds stay the same.
    model_seed = random_state.randint(2**32)
    unsupervised_data_seed = random_state.randint(2**32)
    steps = []
    if FLAGS.model_dir is None:
        model_dir = os.path.join(output_directory, "model")
        supervised_seed, num_labelled_samples, train_percentage, labeller_fn = supervision(FLAGS, model_dir)
        model_config = supervision_pipeline.model_config_file(FLAGS)
        bindings = ["model.model_seed = {}".format(model_seed),
                    "model.unsupervised_data_seed = {}".format(unsupervised_data_seed),
                    "model.name = '{}'".format(supervision_pipeline.stem(model_config)),
                    "model.supervised_data_seed = {}".format(supervised_seed),
                    "model.num_labelled_samples = {}".format(num_labelled_samples),
                    "model.train_percentage = {}".format(train_percentage),
                    "labeller.labeller_fn = {}".format(labeller_fn)] + list(FLAGS.gin_bindings)
        steps.append(Step("train", "model", None, model_dir, [model_config], bindings))
    else:
        model_dir = os.path.join(FLAGS.model_dir, "model")
        supervised_seed, num_labelled_samples, train_percentage, labeller_fn = supervision(FLAGS, model_dir)
    representation_steps, postprocess_configs = supervision_pipeline.representation_steps(FLAGS, model_dir,
                                                                                         random_state)
    steps += representation_steps

    def validation_bindings(metric):
        fraction = [] if metric == "mig" else ["{}_validation.train_percentage = {}".format(metric, train_percentage)]
        return fraction + ["validation.random_seed = {}".format(supervised_seed),
                           "validation.num_labelled_samples = {}".format(num_labelled_samples),
                           "labeller.labeller_fn = {}".format(labeller_fn)]

    validation_configs = supervision_pipeline.config_files(FLAGS.gin_validation_config_glob,
                                                           "gin_validation_config_glob")
    steps += supervision_pipeline.metric_steps(
        FLAGS, "validation", postprocess_configs, validation_configs, None,
        lambda metric: "{}_validation_{}_{}".format(metric, supervised_seed, num_labelled_samples), validation_bindings)
    metric_configs = supervision_pipeline.config_files(FLAGS.gin_evaluation_config_glob, "gin_evaluation_config_glob")
    steps += supervision_pipeline.metric_steps(FLAGS, "evaluation", postprocess_configs, metric_configs,
                                               np.random.RandomState(FLAGS.eval_seed),
                                               lambda metric: "{}_{}".format(metric, supervised_seed))
    return steps


def main(argv):
    del argv
    from dlib_torch.methods.semi_supervised import train_semi_supervised_lib
    from dlib_torch.utils import aggregate_results
    FLAGS = flags.FLAGS
    steps = plan(FLAGS)
    for step in steps:  # the model's values are checked before the output directory is created
        if step.kind == "train":
            train_semi_supervised_lib.check_with_gin(step.config_files, step.bindings)
    closing = supervision_pipeline.pipeline_main(NAME, steps, train_semi_supervised_lib.__name__)
    aggregate_results.aggregate_results_to_json(
        os.path.join(FLAGS.output_directory, "metrics", "*", "*", "results", "aggregate", "evaluation.json"),
        os.path.join(FLAGS.output_directory, "metrics", "aggregated_results.json"))
    return closing


def run():
    supervision_pipeline.define_flags(__name__)
    common.run_main(main, NAME)


if __name__ == "__main__":
    run()
