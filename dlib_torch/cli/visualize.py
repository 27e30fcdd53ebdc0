"""dtl_visualize: pictures of a trained model (disentanglement_lib's dlib_visualize).

Example: dtl_visualize --model_dir=output/model --output_dir=output/visualizations

Writes reconstructions, samples, latent traversals, traversal animations, interventional effects and, for
a model trained on a held-out split, training versus held-out reconstructions (see
dlib_torch/visualize/visualize_model.py). Exit status: 0 done, 2 bad input (one-line error).
"""
from absl import flags

from dlib_torch.cli import common
from dlib_torch.utils import output_dirs


def main(argv):
    del argv
    f = flags.FLAGS
    # Cheap refusals first: nothing heavy (torch, the models) is imported for a bad path or an existing output.
    output_dirs.require_finished(f.model_dir, "train", "train it first: dtl_train --model_dir={}".format(f.model_dir))
    output_dirs.check_output_directory(f.output_dir, "visualize", f.overwrite, inputs=[f.model_dir])
    from dlib_torch.visualize import visualize_model
    visualize_model.visualize(f.model_dir, f.output_dir, f.overwrite, num_animations=f.num_animations,
                              num_frames=f.num_frames, fps=f.fps, num_points_irs=f.num_points_irs)
    return "pictures in {}".format(f.output_dir)


def run():
    common.define_required_directories(model_dir="Directory of a trained model (a finished dtl_train run).",
                                       output_dir="Directory in which to write the visualizations.")
    flags.DEFINE_boolean("overwrite", False, "Replace --output_dir if it already exists.")
    flags.DEFINE_integer("num_animations", 5, "Number of base codes animated per kind of latent cycle.")
    flags.DEFINE_integer("num_frames", 20, "Frames per animation.")
    flags.DEFINE_integer("fps", 10, "Frames per second of the animations.")
    flags.DEFINE_integer("num_points_irs", 10000, "Number of points of the interventional-effect plots.")
    common.run_main(main, "dtl_visualize")


if __name__ == "__main__":
    run()
