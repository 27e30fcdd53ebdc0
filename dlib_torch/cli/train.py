"""dtl_train: trains a model configured in gin (disentanglement_lib's dlib_train).

Example: dtl_train --model_dir=output/model --gin_config=model.gin --gin_bindings="vae.beta = 4"

Rerunning the same command resumes an unfinished model from its checkpoint and does nothing for a finished
one (unless --overwrite). Exit status: 0 done, 2 bad input (one-line error), 75 preempted by SIGTERM/SIGUSR1
after saving a checkpoint (requeue the job and run the same command).
"""
import importlib
import os

from absl import flags

from dlib_torch.cli import common
from dlib_torch.utils import output_dirs


def train_main(trainer_module):
    """The body of every training command: `trainer_module.train_with_gin` on the flags of `define_flags`.

    Cheap refusals first: nothing heavy (torch, the models) is imported for a bad path or a finished model.
    Returns the command's closing line.
    """
    f = flags.FLAGS
    config_files = list(f.gin_config)
    if f.gin_model_dir or f.gin_file_name:
        config_files.append(os.path.join(f.gin_model_dir or "", f.gin_file_name or ""))
    common.check_files_exist(config_files)
    state = output_dirs.check_output_directory(f.model_dir, "train", f.overwrite, keep_unfinished=True,
                                               finished_ok=True)
    if state == "finished_ok":
        return "nothing to do: {} holds a finished model (pass --overwrite to train it again)".format(f.model_dir)
    importlib.import_module(trainer_module).train_with_gin(f.model_dir, f.overwrite, config_files, f.gin_bindings)
    from dlib_torch.utils import results
    record = results.load_record(os.path.join(f.model_dir, "results", "json", "train_results.json"))
    # A resumed run's own duration is the wrapper's; the record's is the whole training's.
    return "model in {}, records in {}; {} steps, {} of training in all".format(
        f.model_dir, os.path.join(f.model_dir, "results"), record.get("global_step"),
        common.format_duration(float(record.get("elapsed_time", 0.0))))


def define_flags(module_name=__name__):
    """The reference's dlib_train flags, filed under `module_name` (the command's own, for its --help)."""
    flags.DEFINE_string("model_dir", None, "Directory of the model: checkpoints, exported modules, results.",
                        module_name=module_name)
    flags.DEFINE_string("gin_model_dir", None, "Directory of a gin file (with --gin_file_name), as dlib_train.",
                        module_name=module_name)
    flags.DEFINE_string("gin_file_name", None, "Name of a gin file in --gin_model_dir, as dlib_train.",
                        module_name=module_name)
    common.define_gin_flags()
    flags.DEFINE_boolean("overwrite", False, "Train again even if --model_dir holds a finished model.",
                         module_name=module_name)
    flags.mark_flag_as_required("model_dir")


def trainer_command(trainer_module, name, module_name):
    """The `run` of a training command `name` (defined in `module_name`): dtl_train's flags and body with the
    trainer of `trainer_module`; its --help shows `module_name`'s docstring."""
    def command_main(argv):
        del argv
        return train_main(trainer_module)
    command_main.__module__ = module_name

    def command_run():
        define_flags(module_name)
        common.run_main(command_main, name)
    return command_run


run = trainer_command("dlib_torch.methods.unsupervised.train", "dtl_train", __name__)


if __name__ == "__main__":
    run()
