"""dtl_reproduce_weakly_supervised: trains a weakly-supervised model and evaluates it (disentanglement_lib's
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
    steps.append(supervision_pipeline.visualize_step(FLAGS, model_dir))
    postprocess_configs = supervision_pipeline.config_files(FLAGS.gin_postprocess_config_glob,
                                                            "gin_postprocess_config_glob")
    for config in postprocess_configs:
        post_name = supervision_pipeline.stem(config)
        bindings = ["postprocess.random_seed = {}".format(random_state.randint(2**32)),
                    "postprocess.name = '{}'".format(post_name)]
        steps.append(Step("postprocess", post_name, model_dir,
                          os.path.join(output_directory, "postprocessed", post_name), [config], bindings))
    metric_configs = supervision_pipeline.config_files(FLAGS.gin_evaluation_config_glob, "gin_evaluation_config_glob")
    for config in postprocess_configs:
        post_name = supervision_pipeline.stem(config)
        for metric_config in metric_configs:
            metric_name = supervision_pipeline.stem(metric_config)
            if "unsupervised" in metric_name:
                continue
            metric_name = "{}_0".format(metric_name)
            bindings = ["evaluation.random_seed = {}".format(random_state.randint(2**32)),
                        "evaluation.name = '{}'".format(metric_name)]
            steps.append(Step("evaluation", metric_name, os.path.join(output_directory, "postprocessed", post_name),
                              os.path.join(output_directory, "metrics", post_name, metric_name), [metric_config],
                              bindings))
    return steps


def main(argv):
    del argv
    from dlib_torch.methods.weak import train_weak_lib
    FLAGS = flags.FLAGS
    steps = plan(FLAGS)
    supervision_pipeline.run_steps(NAME, FLAGS.output_directory, steps, FLAGS.overwrite,
                                   train_weak_lib.train_with_gin)
    print("{}: complete in {}".format(NAME, FLAGS.output_directory))


def run():
    supervision_pipeline.define_flags()
    common.run_main(main, NAME)


if __name__ == "__main__":
    run()
