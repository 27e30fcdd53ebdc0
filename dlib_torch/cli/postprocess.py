"""dtl_postprocess: extracts a representation (mean or sampled) from a trained model (disentanglement_lib's
dlib_postprocess).

Example: dtl_postprocess --model_dir=output/model --output_dir=output/postprocessed/mean --gin_config=mean.gin

Writes <output_dir>/exported/representation.pt and the records of step `postprocess`. A finished output
directory is left alone unless --overwrite; an unfinished one is redone.
"""
from absl import flags

from dlib_torch.cli import common


def main(argv):
    del argv
    from dlib_torch.postprocessing import postprocess
    postprocess.postprocess_with_gin(flags.FLAGS.model_dir, flags.FLAGS.output_dir, flags.FLAGS.overwrite,
                                     flags.FLAGS.gin_config, flags.FLAGS.gin_bindings)


def run():
    flags.DEFINE_string("model_dir", None, "Directory of the trained model (dtl_train --model_dir).")
    flags.DEFINE_string("output_dir", None, "Directory in which to save the representation.")
    common.define_gin_flags()
    flags.DEFINE_boolean("overwrite", False, "Replace a finished --output_dir.")
    flags.mark_flag_as_required("model_dir")
    flags.mark_flag_as_required("output_dir")
    common.run_main(main, "dtl_postprocess")


if __name__ == "__main__":
    run()
