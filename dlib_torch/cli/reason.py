r"""dtl_reason: trains and evaluates the abstract-reasoning model (WReN on PGMs) on a representation
(disentanglement_lib's dlib_reason).

Examples:
  dtl_reason --input_dir=output/postprocessed/mean --output_dir=output/abstract_reasoning/easy1 \
      --gin_config=configs/studies/abstract_reasoning_study_v1/stage2/pgm_types/easy1.gin
  dtl_reason --output_dir=baseline --gin_config=.../stage2/baselines/values.gin \
      --gin_bindings="dataset.name = 'abstract_dsprites_procedural'" --gin_bindings="pgm.pgm_type = 'easy1'"

Writes <output_dir>/results/ (step `abstract_reasoning`). A finished output directory is left alone unless
--overwrite; an interrupted one resumes from its checkpoint; SIGTERM/SIGUSR1 checkpoint and exit with 75.
"""
import os

from absl import flags

from dlib_torch.cli import common


def main(argv):
    del argv
    from dlib_torch.evaluation.abstract_reasoning import reason
    from dlib_torch.utils import results
    output_dir = flags.FLAGS.output_dir
    reason.reason_with_gin(flags.FLAGS.input_dir, output_dir, flags.FLAGS.overwrite, flags.FLAGS.gin_config,
                           flags.FLAGS.gin_bindings)
    record = results.load_record(os.path.join(output_dir, "results", "json", "abstract_reasoning_results.json"))
    return "records in {}; best validation accuracy {:.3f}, test accuracy {:.3f}; {} of training in all".format(
        os.path.join(output_dir, "results"), record["best.val.accuracy"], record["best.test.accuracy"],
        common.format_duration(float(record["elapsed_time"])))


def run():
    flags.DEFINE_string("input_dir", None, "Directory of a postprocessed representation (dtl_postprocess "
                        "--output_dir); omit it for models that learn from pixels or see the true factors.")
    flags.DEFINE_string("output_dir", None, "Directory in which to save the results.")
    common.define_gin_flags()
    flags.DEFINE_boolean("overwrite", False, "Replace a finished --output_dir.")
    flags.mark_flag_as_required("output_dir")
    common.run_main(main, "dtl_reason")


if __name__ == "__main__":
    run()
