"""dtl_visualize_dataset: still images and animations of a data set's factors of variation.

Example: dtl_visualize_dataset --name=dsprites_procedural --path=dataset_visualizations

With correlated factor sampling configured in gin, it also draws the joint histogram of each correlated pair
(`factor_joint_<i>_<j>.png`), e.g.
  dtl_visualize_dataset --name=dsprites_procedural --gin_bindings="factor_sampling.mode = 'correlated'" \\
    --gin_bindings="factor_sampling.pairs = [('posX', 'scale')]" --gin_bindings="factor_sampling.strengths = [0.2]"
`--gin_config` takes a file of `factor_sampling.*` and `held_out.*` bindings (the data lines of a training config).
"""
import os

from absl import flags

from dlib_torch.cli import common


def main(argv):
    del argv
    f = flags.FLAGS
    common.check_files_exist(f.gin_config)
    from dlib_torch.data.ground_truth import factor_sampling  # noqa: F401 (registers factor_sampling, held_out)
    from dlib_torch.utils import gin_utils
    from dlib_torch.visualize import visualize_dataset
    path = os.path.join(f.path, f.name)
    with gin_utils.configured(f.gin_config, f.gin_bindings):
        drawn = visualize_dataset.visualize_dataset(f.name, f.path, overwrite=f.overwrite)
    if not drawn:
        return "nothing to do: {} holds finished pictures (pass --overwrite to draw them again)".format(path)
    return "pictures in {}".format(path)


def run():
    flags.DEFINE_string("name", "dsprites_full", "Name of the data set (as `dataset.name` in gin).")
    flags.DEFINE_string("path", "dataset_visualizations", "Directory in which to write the pictures (in "
                        "<path>/<name>/).")
    flags.DEFINE_boolean("overwrite", False, "Draw the pictures again even if <path>/<name> holds finished ones.")
    common.define_gin_flags()
    common.run_main(main, "dtl_visualize_dataset")


if __name__ == "__main__":
    run()
