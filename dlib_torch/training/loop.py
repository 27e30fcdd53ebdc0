"""The one training loop of dlib_torch. Every trainer steps through it: the models of methods/ (VAEs, the
ground-truth decoder, the Composer, weak and semi-supervised models) via trainer.py, and dtl_reason's WReN.

Each iteration: draw a batch, take one optimisation step, advance the global step, report the scalars when due,
checkpoint when due (at the end, every `checkpoint_every_steps` steps or `checkpoint_every_minutes` minutes, and
when SIGTERM/SIGUSR1 arrived), then stop with `Preempted` if a signal arrived. Scalars stay on the device between
reports, so a GPU is not synchronised every step; a NaN or infinite scalar stops the run with one line naming it.
"""
import collections
import time

import torch

from dlib_torch.training import preemption
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import Preempted
from dlib_torch.utils.errors import UserError

# When a run checkpoints and reports: every `checkpoint_every_steps` global steps (None: only at the end, on a
# signal and by the clock), every `checkpoint_every_minutes` minutes, a report every `log_every_steps` steps.
Schedule = collections.namedtuple("Schedule", ["checkpoint_every_steps", "checkpoint_every_minutes",
                                               "log_every_steps"])


class TrainingDivergedError(UserError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


def training_loop(step_fn, next_batch, global_step, training_steps, schedule, log, save_checkpoint,
                  step_increment=1, after_step=None):
    """Trains until the global step reaches `training_steps`; returns the final global step.

    Args:
      step_fn: `step_fn(batch, global_step) -> {name: scalar tensor}` takes one optimisation step.
      next_batch: `next_batch() -> batch`, the next batch of the run's stream.
      global_step: the step to start from (0, or a checkpoint's).
      training_steps: the global step at which training stops.
      schedule: a Schedule.
      log: a training_log.TrainingLog (`advance`, `report`).
      save_checkpoint: `save_checkpoint(global_step)`.
      step_increment: how much one iteration advances the global step (FactorVAE's reference counts 2).
      after_step: `after_step(previous_step, global_step)`, run after every step, before its checkpoint.
    """
    pending_scalars = []  # (global step, stacked scalars) since the last report
    names = None
    last_checkpoint_time = time.monotonic()
    with preemption.PreemptionSignals() as signals:
        while global_step < training_steps:
            scalars = step_fn(next_batch(), global_step)
            names = list(scalars)
            pending_scalars.append((global_step, stack_scalars(scalars)))
            previous_step, global_step = global_step, global_step + step_increment
            log.advance(step_increment)
            if after_step is not None:
                after_step(previous_step, global_step)

            finished = global_step >= training_steps
            # One reading per iteration: a signal that arrives later (say during the report) is acted on at the
            # next step boundary, so the run never stops without the checkpoint.
            stop_signal = signals.received
            checkpoint_due = (finished or stop_signal is not None
                              or (schedule.checkpoint_every_steps is not None
                                  and crossed(previous_step, global_step, schedule.checkpoint_every_steps))
                              or time.monotonic() - last_checkpoint_time >= 60 * schedule.checkpoint_every_minutes)
            if checkpoint_due or crossed(previous_step, global_step, schedule.log_every_steps):
                log.report(global_step, mean_scalars(names, pending_scalars))
                pending_scalars = []
            if checkpoint_due:
                save_checkpoint(global_step)
                last_checkpoint_time = time.monotonic()
            if stop_signal is not None:
                raise Preempted("received {} at global step {}; a checkpoint is saved, run the same command again "
                                "to resume".format(stop_signal, global_step))
    return global_step


def stack_scalars(scalars):
    """The scalars of one batch as one float32 tensor on the model's device (no synchronisation)."""
    values = list(scalars.values())
    device = next((v.device for v in values if torch.is_tensor(v)), torch.device("cpu"))
    return torch.stack([torch.as_tensor(v, dtype=torch.float32, device=device).detach() for v in values])


def mean_scalars(names, pending_scalars):
    """Means of the pending scalars; raises TrainingDivergedError naming the first step with a NaN or inf."""
    steps = [step for step, _ in pending_scalars]
    values = torch.stack([v for _, v in pending_scalars]).cpu()  # one copy, one synchronisation
    finite = torch.isfinite(values)
    if not bool(finite.all()):
        row, column = [int(i) for i in torch.nonzero(~finite)[0]]
        raise TrainingDivergedError(
            "training diverged: {} is {} at global step {}; the last good checkpoint is kept (a rerun resumes "
            "from it and meets the same values): lower the learning rate or change the model, then pass "
            "--overwrite".format(list(names)[column], float(values[row, column]), steps[row]))
    return dict(zip(names, values.double().mean(dim=0).tolist()))


def crossed(previous_step, step, every):
    """True if a multiple of `every` lies in (previous_step, step]."""
    return step // every > previous_step // every


def probe(forward, what):
    """Runs `forward()`, a trainer's first forward pass on a tiny batch, so that a configuration error (an
    architecture that does not fit the data) surfaces before any work, as one line: `<what>: <the error>`."""
    try:
        return forward()
    except (UserError, MemoryError):
        raise
    except (RuntimeError, ValueError, TypeError) as e:
        if "Required bindings" in str(e):  # gin's own message, made one line by the stage
            raise
        raise ConfigError("{}: {}".format(what, " ".join(str(e).split()))) from e
