"""dtl_postprocess: extracts a representation (mean or sampled) from a trained model (disentanglement_lib's
dlib_postprocess).

Example: dtl_postprocess --model_dir=output/model --output_dir=output/postprocessed/mean --gin_config=mean.gin

Writes <output_dir>/exported/representation.pt and the records of step `postprocess`. A finished output
directory is left alone unless --overwrite; an unfinished one is redone.
"""
import os

from absl import flags

from dlib_torch.cli import common
from dlib_torch.utils import output_dirs


def main(argv):
    del argv
    f = flags.FLAGS
    # Cheap refusals first: nothing heavy (torch, the models) is imported for a bad path or an existing output.
    common.check_files_exist(f.gin_config)
    output_dirs.require_finished(f.model_dir, "train", "train the model first with dtl_train --model_dir={}".format(
        f.model_dir))
    output_dirs.check_output_directory(f.output_dir, "postprocess", f.overwrite, inputs=[f.model_dir])
    from dlib_torch.postprocessing import postprocess
    postprocess.postprocess_with_gin(f.model_dir, f.output_dir, f.overwrite, f.gin_config, f.gin_bindings)
    return "representation in {}, records in {}".format(
        os.path.join(f.output_dir, "exported", "representation.pt"), os.path.join(f.output_dir, "results"))


def run():
    common.define_required_directories(model_dir="Directory of the trained model (dtl_train --model_dir).",
                                       output_dir="Directory in which to save the representation.")
    common.define_gin_flags()
    flags.DEFINE_boolean("overwrite", False, "Replace a finished --output_dir.")
    common.run_main(main, "dtl_postprocess")


if __name__ == "__main__":
    run()
