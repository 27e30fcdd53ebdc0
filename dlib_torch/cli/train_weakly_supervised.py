"""dtl_train_weakly_supervised: trains a weakly-supervised model configured in gin (disentanglement_lib's
dlib_train_weakly_supervised), e.g. `model.model = @group_vae_argmax()` with `dynamics.k = -1`.

Example: dtl_train_weakly_supervised --model_dir=output/weak/model --gin_config=weak.gin

Flags, records, checkpoints, resume, exit statuses (0 done, 2 bad input, 75 preempted) are those of dtl_train;
the model trains on pairs of observations that differ in a few factors (methods/weak/train_weak_lib.py).
"""
import os

from absl import flags

from dlib_torch.cli import common


def main(argv):
    del argv
    from dlib_torch.methods.weak import train_weak_lib
    config_files = list(flags.FLAGS.gin_config)
    if flags.FLAGS.gin_model_dir or flags.FLAGS.gin_file_name:
        config_files.append(os.path.join(flags.FLAGS.gin_model_dir or "", flags.FLAGS.gin_file_name or ""))
    train_weak_lib.train_with_gin(flags.FLAGS.model_dir, flags.FLAGS.overwrite, config_files,
                                  flags.FLAGS.gin_bindings)


def run():
    flags.DEFINE_string("model_dir", None, "Directory of the model: checkpoints, exported modules, results.")
    flags.DEFINE_string("gin_model_dir", None, "Directory of a gin file (with --gin_file_name), as dlib_train.")
    flags.DEFINE_string("gin_file_name", None, "Name of a gin file in --gin_model_dir, as dlib_train.")
    common.define_gin_flags()
    flags.DEFINE_boolean("overwrite", False, "Train again even if --model_dir holds a finished model.")
    flags.mark_flag_as_required("model_dir")
    common.run_main(main, "dtl_train_weakly_supervised")


if __name__ == "__main__":
    run()
