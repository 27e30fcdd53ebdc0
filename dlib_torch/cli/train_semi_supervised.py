"""dtl_train_semi_supervised: trains a semi-supervised model configured in gin (disentanglement_lib's
dlib_train_semi_supervised), e.g. `model.model = @s2_vae` with `labeller.labeller_fn = @perfect_labeller`.

Example: dtl_train_semi_supervised --model_dir=output/semi/model --gin_config=semi.gin

Flags, records, checkpoints, resume, exit statuses (0 done, 2 bad input, 75 preempted) are those of dtl_train;
the model trains on unlabelled batches plus a few labelled ones
(methods/semi_supervised/train_semi_supervised_lib.py).
"""
import os

from absl import flags

from dlib_torch.cli import common


def main(argv):
    del argv
    from dlib_torch.methods.semi_supervised import train_semi_supervised_lib
    config_files = list(flags.FLAGS.gin_config)
    if flags.FLAGS.gin_model_dir or flags.FLAGS.gin_file_name:
        config_files.append(os.path.join(flags.FLAGS.gin_model_dir or "", flags.FLAGS.gin_file_name or ""))
    train_semi_supervised_lib.train_with_gin(flags.FLAGS.model_dir, flags.FLAGS.overwrite, config_files,
                                             flags.FLAGS.gin_bindings)


def run():
    flags.DEFINE_string("model_dir", None, "Directory of the model: checkpoints, exported modules, results.")
    flags.DEFINE_string("gin_model_dir", None, "Directory of a gin file (with --gin_file_name), as dlib_train.")
    flags.DEFINE_string("gin_file_name", None, "Name of a gin file in --gin_model_dir, as dlib_train.")
    common.define_gin_flags()
    flags.DEFINE_boolean("overwrite", False, "Train again even if --model_dir holds a finished model.")
    flags.mark_flag_as_required("model_dir")
    common.run_main(main, "dtl_train_semi_supervised")


if __name__ == "__main__":
    run()
