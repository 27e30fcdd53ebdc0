r"""dtl_evaluate: scores a postprocessed representation with metrics (disentanglement_lib's dlib_evaluate).

Examples:
  dtl_evaluate --input_dir=output/postprocessed/mean --output_dir=output/metrics/mean/mig --gin_config=mig.gin
  dtl_evaluate --input_dir=output/postprocessed/mean --output_dir=output/metrics/mean \
      --gin_evaluation_config_glob='metric_configs/*.gin'

With --gin_evaluation_config_glob, every matching gin file (in sorted order) is one metric, written to
<output_dir>/<file name without .gin> with the binding evaluation.name = '<file name without .gin>', as the
reference; --gin_config files are parsed before each metric's file and --gin_bindings after it (the reference
ignored both in this mode). All metrics run in one process, so they share the codes of each observation.
"""
import glob
import os

from absl import flags

from dlib_torch.cli import common
from dlib_torch.evaluation import input_checks
from dlib_torch.utils import output_dirs
from dlib_torch.utils.errors import UserError


def main(argv):
    del argv
    FLAGS = flags.FLAGS
    if FLAGS.gin_evaluation_config_glob is None:
        runs = [(FLAGS.output_dir, list(FLAGS.gin_config), list(FLAGS.gin_bindings))]
    else:
        metric_configs = sorted(glob.glob(FLAGS.gin_evaluation_config_glob))
        if not metric_configs:
            raise UserError("--gin_evaluation_config_glob={} matches no file".format(
                FLAGS.gin_evaluation_config_glob))
        runs = []
        for metric_config in metric_configs:
            metric_name = os.path.basename(metric_config).replace(".gin", "")
            runs.append((os.path.join(FLAGS.output_dir, metric_name), list(FLAGS.gin_config) + [metric_config],
                         ["evaluation.name = '{}'".format(metric_name)] + list(FLAGS.gin_bindings)))
    # Cheap refusals first: nothing heavy (torch, the metrics) is imported for a bad path or an existing output.
    input_checks.require_representation(FLAGS.input_dir)
    inputs = [FLAGS.input_dir] + input_checks.trained_model_candidates(FLAGS.input_dir)
    for output_dir, config_files, _ in runs:
        common.check_files_exist(config_files)
        output_dirs.check_output_directory(output_dir, "evaluation", FLAGS.overwrite, inputs=inputs)
    from dlib_torch.evaluation import evaluate
    for output_dir, config_files, bindings in runs:
        evaluate.evaluate_with_gin(FLAGS.input_dir, output_dir, FLAGS.overwrite, config_files, bindings)
    if len(runs) == 1:
        return "scores in {}".format(os.path.join(runs[0][0], "results", "aggregate", "evaluation.json"))
    return "{} metrics scored, each in {}/<metric>/results/aggregate/evaluation.json".format(len(runs),
                                                                                          FLAGS.output_dir)


def run():
    common.define_required_directories(input_dir="Directory of the postprocessed representation.",
                                       output_dir="Directory in which to save the scores.")
    common.define_gin_flags()
    flags.DEFINE_string("gin_evaluation_config_glob", None,
                        "Glob of metric gin files; each is evaluated into <output_dir>/<its name>.")
    flags.DEFINE_boolean("overwrite", False, "Replace finished output directories.")
    common.run_main(main, "dtl_evaluate")


if __name__ == "__main__":
    run()
