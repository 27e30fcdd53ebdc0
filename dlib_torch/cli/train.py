"""dtl_train: trains a model configured in gin (disentanglement_lib's dlib_train).

Example: dtl_train --model_dir=output/model --gin_config=model.gin --gin_bindings="vae.beta = 4"

Rerunning the same command resumes an unfinished model from its checkpoint and does nothing for a finished
one (unless --overwrite). Exit status: 0 done, 2 bad input (one-line error), 75 preempted by SIGTERM/SIGUSR1
after saving a checkpoint (requeue the job and run the same command).
"""
import os

from absl import flags

from dlib_torch.cli import common


def main(argv):
    del argv
    from dlib_torch.methods.unsupervised import train
    config_files = list(flags.FLAGS.gin_config)
    if flags.FLAGS.gin_model_dir or flags.FLAGS.gin_file_name:
        config_files.append(os.path.join(flags.FLAGS.gin_model_dir or "", flags.FLAGS.gin_file_name or ""))
    train.train_with_gin(flags.FLAGS.model_dir, flags.FLAGS.overwrite, config_files, flags.FLAGS.gin_bindings)


def run():
    flags.DEFINE_string("model_dir", None, "Directory of the model: checkpoints, exported modules, results.")
    flags.DEFINE_string("gin_model_dir", None, "Directory of a gin file (with --gin_file_name), as dlib_train.")
    flags.DEFINE_string("gin_file_name", None, "Name of a gin file in --gin_model_dir, as dlib_train.")
    common.define_gin_flags()
    flags.DEFINE_boolean("overwrite", False, "Train again even if --model_dir holds a finished model.")
    flags.mark_flag_as_required("model_dir")
    common.run_main(main, "dtl_train")


if __name__ == "__main__":
    run()
