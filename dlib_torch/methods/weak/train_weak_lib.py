"""Training of weakly-supervised models (`dtl_train_weakly_supervised`): the trainer of train.py (the `model`
stage, whose records, checkpoints, resume, preemption and exports it keeps); the weak models (weak_vae.py) draw
their own pair batches (weak_pairs.py).
"""
from dlib_torch.methods.unsupervised import train
from dlib_torch.methods.weak import weak_vae  # pylint: disable=unused-import (registers the weak models)


def train_with_gin(model_dir, overwrite=False, gin_config_files=None, gin_bindings=None):
    """Trains a weakly-supervised model (`model.model = @group_vae_argmax()`, ...) as `dtl_train` trains any
    model: same `model.*` parameters, records (step `train`), checkpoints and exports."""
    train.train_with_gin(model_dir, overwrite, gin_config_files, gin_bindings)
