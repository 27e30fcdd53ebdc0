"""dtl_visualize_dataset: still images and animations of a data set's factors of variation.

Example: dtl_visualize_dataset --name=dsprites_procedural --path=dataset_visualizations
"""
import os

from absl import flags

from dlib_torch.cli import common


def main(argv):
    del argv
    from dlib_torch.visualize import visualize_dataset
    visualize_dataset.visualize_dataset(flags.FLAGS.name, flags.FLAGS.path)
    return "pictures in {}".format(os.path.join(flags.FLAGS.path, flags.FLAGS.name))


def run():
    flags.DEFINE_string("name", "dsprites_full", "Name of the data set (as `dataset.name` in gin).")
    flags.DEFINE_string("path", "dataset_visualizations", "Directory in which to write the pictures.")
    common.run_main(main, "dtl_visualize_dataset")


if __name__ == "__main__":
    run()
