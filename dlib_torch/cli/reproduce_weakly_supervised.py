r"""dtl_reproduce_weakly_supervised: trains a weakly-supervised model and evaluates it (disentanglement_lib's
dlib_reproduce_weakly_supervised, same flags).

Example:
  dtl_reproduce_weakly_supervised --output_directory=output/weak --pipeline_seed=0 \
      --gin_model_config_dir=configs --gin_model_config_name=group_vae_argmax.gin \
      --gin_postprocess_config_glob='postprocess_configs/*.gin' --gin_evaluation_config_glob='metric_configs/*.gin'

Steps, as the reference: train (model.random_seed drawn from RandomState(--pipeline_seed); skipped with
--model_dir, whose `model/` is used), visualize, postprocess every config (seeds drawn next), then evaluate every
metric whose name does not contain "unsupervised" on every representation, into metrics/<post>/<metric>_0.
--gin_validation_config_glob, --eval_seed and the four supervision flags are accepted and unused, as in the
reference. A rerun skips finished steps and resumes unfinished training; exit 75 when preempted.
"""
import os

from absl import flags
import numpy as np

from dlib_torch.cli import common
from dlib_torch.cli import supervision_pipeline
from dlib_torch.cli.reproduce import Step

NAME = "dtl_reproduce_weakly_supervised"


def plan(FLAGS):
    """The steps of the pipeline, with the reference's seeds."""
    random_state = np.random.RandomState(FLAGS.pipeline_seed)
    output_directory = FLAGS.output_directory
    steps = []
    if FLAGS.model_dir is None:
        model_dir = os.path.join(output_directory, "model")
        model_config = supervision_pipeline.model_config_file(FLAGS)
        bindings = ["model.random_seed = {}".format(random_state.randint(2**32)),
                    "model.name = '{}'".format(supervision_pipeline.stem(model_config))] + list(FLAGS.gin_bindings)
        steps.append(Step("train", "model", None, model_dir, [model_config], bindings))
    else:
        model_dir = os.path.join(FLAGS.model_dir, "model")
    representation_steps, postprocess_configs = supervision_pipeline.representation_steps(FLAGS, model_dir,
                                                                                         random_state)
    metric_configs = supervision_pipeline.config_files(FLAGS.gin_evaluation_config_glob, "gin_evaluation_config_glob")
    return steps + representation_steps + supervision_pipeline.metric_steps(
        FLAGS, "evaluation", postprocess_configs, metric_configs, random_state,
        lambda metric: None if "unsupervised" in metric else "{}_0".format(metric))


def main(argv):
    del argv
    return supervision_pipeline.pipeline_main(NAME, plan(flags.FLAGS), "dlib_torch.methods.weak.train_weak_lib")


def run():
    supervision_pipeline.define_flags(__name__)
    common.run_main(main, NAME)


if __name__ == "__main__":
    run()
