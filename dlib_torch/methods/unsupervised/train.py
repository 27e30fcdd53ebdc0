"""The training stage (`dtl_train`): trains a model configured in gin, exports it and writes its records.

`<model_dir>/` receives:
  checkpoints/latest.pt       the latest checkpoint (written atomically; a rerun resumes from it),
  checkpoints/best.pt         with `model_selection.every_steps`: the parameters with the lowest training
                              reconstruction loss, which are then exported and evaluated (model_selection.py),
  scalars.jsonl               training scalars, one JSON object per report (tensorboard/ when installed),
  exported/gaussian_encoder.pt, exported/decoder.pt   TorchScript modules (DESIGN §3),
  results/                    records of step `train` (its aggregate file marks the model as finished).

A finished model is left alone unless `overwrite`. SIGTERM or SIGUSR1 writes a checkpoint at the next step
boundary and raises `Preempted` (`dtl_train` exits with 75); running the same command again resumes, and on
the CPU ends with the same parameters, bit for bit, as a run that was never interrupted.
"""
import gin
import numpy as np

from dlib_torch.data.ground_truth import factor_sampling
from dlib_torch.methods.unsupervised import composer  # pylint: disable=unused-import (registers @composer)
from dlib_torch.methods.unsupervised import gt_decoder  # pylint: disable=unused-import (registers @gt_decoder)
from dlib_torch.methods.unsupervised import hfs  # pylint: disable=unused-import (registers @hfs)
from dlib_torch.methods.unsupervised import qlae  # pylint: disable=unused-import (registers @qlae, qlae_optimizer)
from dlib_torch.methods.unsupervised import qlvae  # pylint: disable=unused-import (registers @qlvae)
from dlib_torch.methods.unsupervised import vae  # pylint: disable=unused-import (registers the models)
from dlib_torch.training import trainer
from dlib_torch.utils import gin_utils
from dlib_torch.utils import validation


def train_with_gin(model_dir, overwrite=False, gin_config_files=None, gin_bindings=None):
    """Parses the gin files and bindings (errors name the culprit, before any work), trains, clears gin.

    Args:
      model_dir: directory of the model (created; an unfinished one is resumed).
      overwrite: retrain even if `model_dir` holds a finished model.
      gin_config_files: gin files to parse, in order.
      gin_bindings: gin bindings parsed after the files.
    """
    with gin_utils.configured(gin_config_files, gin_bindings):
        train(model_dir, overwrite)


@gin.configurable("model", denylist=["model_dir", "overwrite"])
def train(model_dir, overwrite=False, model=gin.REQUIRED, training_steps=gin.REQUIRED, random_seed=gin.REQUIRED,
          batch_size=gin.REQUIRED, eval_steps=1000, name="", model_num=None):
    """Trains `model` on `dataset.name` (restricted by `held_out.split`, drawn as `factor_sampling` says), exports
    it, evaluates it, records it.

    Args:
      model_dir: directory of the model.
      overwrite: retrain even if `model_dir` holds a finished model.
      model: the model, e.g. `@vae()` or `@gt_decoder()`.
      training_steps: the global step at which training stops.
      random_seed: seed of the run: torch's seed, and the source of the data seeds.
      batch_size: batch size of training and evaluation.
      eval_steps: number of batches of the final evaluation.
      name: unused; names the model in the records.
      model_num: unused; numbers the model in the records.
    """
    del name, model_num
    training_steps, random_seed, batch_size, eval_steps = validate_parameters(training_steps, random_seed,
                                                                              batch_size, eval_steps)
    inputs = list(getattr(model, "input_directories", ()))  # directories a model reads (a Composer's VAE)
    if trainer.already_trained(model_dir, overwrite, inputs):
        return
    # Seeds as in the reference: the training data seed is the first draw, the evaluation seed the second.
    random_state = np.random.RandomState(random_seed)
    train_random_state = np.random.RandomState(random_state.randint(2**32))
    eval_seed = random_state.randint(2**32)
    dataset = load_training_data()
    trainer.run_training(model_dir, overwrite, model, dataset, training_steps, batch_size, eval_steps, random_seed,
                          train_random_state, np.random.RandomState(eval_seed))


def validate_parameters(training_steps, random_seed, batch_size, eval_steps):
    """The `model.*` values of a run, checked before any work (a one-line ConfigError names the culprit)."""
    return (validation.check_int("model.training_steps", training_steps, minimum=1),
            validation.check_int("model.random_seed", random_seed, minimum=0, maximum=2**32 - 1),
            validation.check_int("model.batch_size", batch_size, minimum=1),
            validation.check_int("model.eval_steps", eval_steps, minimum=1))


def load_training_data():
    """The data set training samples from: `dataset.name`, the kept side of `held_out.split`, `factor_sampling`."""
    return factor_sampling.training_data()
