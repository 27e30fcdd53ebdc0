"""A resumable run inside a claimed output directory, for every trainer (trainer.py, dtl_reason): its checkpoint,
resumed when present and only under the same configuration, the scalars it reported up to there, its clock, and
the writer of its next checkpoints."""
import os
import time

from absl import logging
import gin

from dlib_torch.training import checkpoint
from dlib_torch.training import training_log
from dlib_torch.utils.errors import UserError


def config_fingerprint(runtime_scope):
    """The parsed gin config without the settings of `runtime_scope` (e.g. `training_runtime`), which do not change
    results, so a resume may alter them."""
    lines = gin.config_str().splitlines()
    return "\n".join(line for line in lines
                     if line.strip() and not line.startswith("#") and not line.startswith(runtime_scope + "."))


class Session:
    """Opens (or resumes) a run of `network` and `optimizers` with the data stream `random_state` in `directory`.

    After construction: `global_step` (0, or the checkpoint's), `extra` (the caller's progress saved with the
    checkpoint, or None), `checkpoint_threads` (the CPU threads the checkpoint was written with, or None);
    `save(step, extra)` writes the next checkpoint, `elapsed()` the run's seconds including earlier pieces.
    """

    def __init__(self, directory, network, optimizers, random_state, device, runtime_scope):
        self.directory, self.network, self.optimizers, self.random_state = directory, network, optimizers, random_state
        self.path = checkpoint.checkpoint_path(directory)
        self.fingerprint = config_fingerprint(runtime_scope)
        self.global_step, previous_elapsed, self.extra, self.checkpoint_threads = 0, 0.0, None, None
        if os.path.exists(self.path):
            state = checkpoint.load(self.path, device)
            if state["config_fingerprint"] != self.fingerprint:
                raise UserError("{} holds a checkpoint of a run with another gin configuration; rerun with the "
                                "same configuration to resume it, or pass --overwrite to start again".format(directory))
            checkpoint.restore(state, network, optimizers, random_state)
            self.global_step, previous_elapsed = state["global_step"], state["elapsed_time"]
            self.extra, self.checkpoint_threads = state.get("extra"), state["num_threads"]
            logging.info("Resuming %s from its checkpoint at global step %d", directory, self.global_step)
        training_log.truncate_scalars(directory, self.global_step)
        self._start = time.time() - previous_elapsed

    def elapsed(self):
        return time.time() - self._start

    def save(self, step, extra=None):
        checkpoint.save(self.path, self.network, self.optimizers, self.random_state, step, self.elapsed(),
                        self.fingerprint, extra=extra)
