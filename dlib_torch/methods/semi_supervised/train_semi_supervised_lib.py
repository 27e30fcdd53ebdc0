"""Training of semi-supervised models (`dtl_train_semi_supervised`), as disentanglement_lib's
train_semi_supervised_lib: the gin `model` configurable takes the reference's parameters (three seeds,
`num_labelled_samples`, `train_percentage`) and the model class (`model.model = @s2_vae`, built with the
labeller's factor sizes). Records (step `train`), checkpoints, resume, preemption and exports are those of
`dtl_train` (training/trainer.py).

The labelled set is drawn with RandomState(supervised_data_seed) and labelled by `labeller.labeller_fn`; its
first ceil(num_labelled_samples * train_percentage) observations train, the rest are held back and the final
evaluation (over num_labelled_samples batches, as the reference) pairs them with unlabelled batches drawn
with RandomState(unsupervised_data_seed). Unlabelled training batches come from that same seed; torch is seeded
with model_seed.

`train` becomes the gin configurable `model` only when `train_with_gin` first runs (not on import), because
methods/unsupervised/train.py registers a `model` too and gin finds a name registered twice ambiguous: a process
that trains a semi-supervised model must not also train with train.py, as the reference's separate commands.
"""
import gin
import numpy as np

from dlib_torch.data.ground_truth import factor_sampling
from dlib_torch.methods.semi_supervised import semi_supervised_utils
from dlib_torch.methods.semi_supervised import semi_supervised_vae
from dlib_torch.training import trainer
from dlib_torch.utils import gin_utils
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError


_configurable_train = None


def train_with_gin(model_dir, overwrite=False, gin_config_files=None, gin_bindings=None):
    """Registers `model` (once), parses the gin files and bindings (errors name the culprit), trains, clears gin."""
    configurable = _configurable()
    with gin_utils.configured(gin_config_files, gin_bindings):
        configurable(model_dir, overwrite)


def check_with_gin(gin_config_files=None, gin_bindings=None):
    """Parses the training's gin files and bindings and checks the labeller and annealer settings, without
    any work (dtl_reproduce_semi_supervised calls it before it creates its output directory)."""
    _configurable()
    with gin_utils.configured(gin_config_files, gin_bindings):
        semi_supervised_utils.validate_parameters()


def _configurable():
    global _configurable_train
    if _configurable_train is None:
        _configurable_train = gin.configurable("model", module=__name__, denylist=["model_dir", "overwrite"])(train)
    return _configurable_train


def train(model_dir, overwrite=False, model=gin.REQUIRED, training_steps=gin.REQUIRED,
          unsupervised_data_seed=gin.REQUIRED, supervised_data_seed=gin.REQUIRED, model_seed=gin.REQUIRED,
          batch_size=gin.REQUIRED, num_labelled_samples=gin.REQUIRED, train_percentage=gin.REQUIRED, name=""):
    """Trains the semi-supervised `model`, exports it, evaluates it on the held-back labels, records it
    (registered as gin's `model` by `train_with_gin`).

    Args:
      model_dir: directory of the model.
      overwrite: retrain even if `model_dir` holds a finished model.
      model: the model class, e.g. `@s2_vae` (an instance such as `@s2_vae()` works too).
      training_steps: the global step at which training stops.
      unsupervised_data_seed: seed of the unlabelled observations.
      supervised_data_seed: seed of the labelled set (the validation stage draws the same set).
      model_seed: torch's seed (initialisation, sampling).
      batch_size: unlabelled and labelled observations per step.
      num_labelled_samples: size of the labelled set.
      train_percentage: fraction of it used for training, in (0, 1].
      name: unused; names the model in the records.
    """
    del name
    training_steps = validation.check_int("model.training_steps", training_steps, minimum=0)
    batch_size = validation.check_int("model.batch_size", batch_size, minimum=1)
    num_labelled_samples = validation.check_int("model.num_labelled_samples", num_labelled_samples, minimum=1)
    train_percentage = validation.check_float("model.train_percentage", train_percentage, minimum=0.0, maximum=1.0,
                                              minimum_inclusive=False)
    for seed_name, seed in (("unsupervised_data_seed", unsupervised_data_seed),
                            ("supervised_data_seed", supervised_data_seed), ("model_seed", model_seed)):
        validation.check_int("model." + seed_name, seed, minimum=0, maximum=2**32 - 1)
    semi_supervised_utils.validate_parameters()
    if trainer.already_trained(model_dir, overwrite):
        return
    dataset = factor_sampling.training_data()
    if dataset.observations_are_deterministic:  # a finite set of images: the labelled set must fit in it
        semi_supervised_utils.validate_parameters(num_labelled_samples, int(np.prod(dataset.factors_num_values)))
    observations, labels, factor_sizes = semi_supervised_utils.sample_supervised_data(
        supervised_data_seed, dataset, num_labelled_samples)
    model = instantiate(model, factor_sizes)
    model.set_labelled_data(*semi_supervised_utils.train_test_split(observations, labels, num_labelled_samples,
                                                                   train_percentage))
    trainer.run_training(model_dir, overwrite, model, dataset, training_steps, batch_size,
                          eval_steps=num_labelled_samples, torch_seed=model_seed,
                          train_random_state=np.random.RandomState(unsupervised_data_seed),
                          eval_random_state=np.random.RandomState(unsupervised_data_seed),
                          factors_num_values=list(factor_sizes))


def instantiate(model, factor_sizes):
    """The model object: a semi-supervised class gets the factor sizes, as in the reference."""
    if isinstance(model, type):
        if issubclass(model, semi_supervised_vae.BaseS2VAE):
            return model(factor_sizes)
        model = model()
    if not isinstance(model, semi_supervised_vae.BaseS2VAE):
        raise ConfigError("model.model must be a semi-supervised model (@s2_vae, @s2_factor_vae, @s2_dip_vae, "
                          "@s2_beta_tc_vae, @s2_mine_vae or @supervised), not {}".format(type(model).__name__))
    return model
