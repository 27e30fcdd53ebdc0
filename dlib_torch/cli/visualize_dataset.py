"""dtl_visualize_dataset: still images and animations of a data set's factors of variation.

Example: dtl_visualize_dataset --name=dsprites_procedural --path=dataset_visualizations
"""
import os

from absl import flags

from dlib_torch.cli import common


def main(argv):
    del argv
    from dlib_torch.visualize import visualize_dataset
    path = os.path.join(flags.FLAGS.path, flags.FLAGS.name)
    if not visualize_dataset.visualize_dataset(flags.FLAGS.name, flags.FLAGS.path, overwrite=flags.FLAGS.overwrite):
        return "nothing to do: {} holds finished pictures (pass --overwrite to draw them again)".format(path)
    return "pictures in {}".format(path)


def run():
    flags.DEFINE_string("name", "dsprites_full", "Name of the data set (as `dataset.name` in gin).")
    flags.DEFINE_string("path", "dataset_visualizations", "Directory in which to write the pictures (in "
                        "<path>/<name>/).")
    flags.DEFINE_boolean("overwrite", False, "Draw the pictures again even if <path>/<name> holds finished ones.")
    common.run_main(main, "dtl_visualize_dataset")


if __name__ == "__main__":
    run()
