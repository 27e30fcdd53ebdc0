"""Best-checkpoint selection by the training reconstruction loss, as Montero et al.'s code selects its models
(notes §3.2 and §4): every `every_steps` global steps the model's `reconstruction_loss` is averaged over
`num_batches` fresh training batches in eval mode, and the parameters with the lowest value are exported and
evaluated instead of the last ones. Off by default (`model_selection.every_steps = None`: the last parameters,
as disentanglement_lib).

The paper's ground-truth decoder: `every_steps = 10`, `num_batches = 100`; its VAEs: once per epoch on 20% of
an epoch's batches. The best parameters live in `checkpoints/best.pt` (written atomically, before the regular
checkpoint of the same step); the batches of step s come from RandomState([seed, s]) and torch's generators are
restored afterwards, so selection changes no training result and a resumed run selects the same step.
"""
import math
import os

import gin
import numpy as np
import torch

from dlib_torch.training import checkpoint
from dlib_torch.utils import validation

BEST_CHECKPOINT = "best.pt"


@gin.configurable("model_selection")
def model_selection(every_steps=None, num_batches=100, seed=0):
    """The configured selection (validated), or None when off."""
    if every_steps is None:
        return None
    return Settings(validation.check_int("model_selection.every_steps", every_steps, minimum=1),
                    validation.check_int("model_selection.num_batches", num_batches, minimum=1),
                    validation.check_int("model_selection.seed", seed, minimum=0))


class Settings:
    """every_steps, num_batches, seed."""

    def __init__(self, every_steps, num_batches, seed):
        self.every_steps, self.num_batches, self.seed = every_steps, num_batches, seed


class BestCheckpoint:
    """Keeps the parameters with the lowest selection loss in `<model_dir>/checkpoints/best.pt`."""

    def __init__(self, model_dir, settings, sample_batch):
        """`sample_batch(random_state) -> (factors, observations)` draws one training batch for the model."""
        self.path = os.path.join(model_dir, "checkpoints", BEST_CHECKPOINT)
        self.settings = settings
        self.sample_batch = sample_batch
        self.best_loss, self.best_step = math.inf, None
        if os.path.exists(self.path):  # a resumed run
            state = checkpoint.load_state(self.path)
            self.best_loss, self.best_step = state["loss"], state["global_step"]

    def after_step(self, model, previous_step, global_step):
        """Scores the model when a multiple of `every_steps` was crossed; saves it if it is the best so far."""
        if global_step // self.settings.every_steps <= previous_step // self.settings.every_steps:
            return
        loss = self.selection_loss(model, global_step)
        if loss < self.best_loss:
            self.best_loss, self.best_step = loss, int(global_step)
            state = {"global_step": int(global_step), "loss": float(loss), "model": model.state_dict()}
            checkpoint.save_state(self.path, state)

    def selection_loss(self, model, global_step):
        """Mean `reconstruction_loss` over `num_batches` batches of step `global_step`'s own stream, in eval mode."""
        random_state = np.random.RandomState([self.settings.seed, int(global_step)])
        devices = [d.index or 0 for d in {p.device for p in model.parameters()} if d.type == "cuda"]
        total = 0.0
        model.eval()
        try:
            with torch.random.fork_rng(devices=devices), torch.no_grad():
                for _ in range(self.settings.num_batches):
                    factors, observations = self.sample_batch(random_state)
                    _, scalars = model.model_fn(observations, global_step, factors=factors)
                    total += float(scalars["reconstruction_loss"])
        finally:
            model.train()
        return total / self.settings.num_batches

    def restore_best(self, model, device):
        """Loads the best parameters into `model`; returns {"model_selection_step", "model_selection_loss"}."""
        if self.best_step is None:
            return {}
        state = checkpoint.load_state(self.path)
        model.load_state_dict({k: v.to(device) for k, v in state["model"].items()})
        return {"model_selection_step": int(state["global_step"]), "model_selection_loss": float(state["loss"])}
