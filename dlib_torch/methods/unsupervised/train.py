"""The training stage (`dtl_train`): trains a model configured in gin, exports it and writes its records.

`<model_dir>/` receives:
  checkpoints/latest.pt       the latest checkpoint (written atomically; a rerun resumes from it),
  scalars.jsonl               training scalars, one JSON object per report (tensorboard/ when installed),
  exported/gaussian_encoder.pt, exported/decoder.pt   TorchScript modules (DESIGN §3),
  results/                    records of step `train` (its aggregate file marks the model as finished).

A finished model is left alone unless `overwrite`. SIGTERM or SIGUSR1 writes a checkpoint at the next step
boundary and raises `Preempted` (`dtl_train` exits with 75); running the same command again resumes, and on
the CPU ends with the same parameters, bit for bit, as a run that was never interrupted.
"""
import contextlib
import dataclasses
import os
import time

from absl import logging
import gin
import numpy as np
import torch

from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import splits
from dlib_torch.methods.unsupervised import checkpoint
from dlib_torch.methods.unsupervised import gaussian_encoder_model
from dlib_torch.methods.unsupervised import gt_decoder  # pylint: disable=unused-import (registers @gt_decoder)
from dlib_torch.methods.unsupervised import preemption
from dlib_torch.methods.unsupervised import training_log
from dlib_torch.methods.unsupervised import vae  # pylint: disable=unused-import (registers the models)
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import gin_utils
from dlib_torch.utils import output_dirs
from dlib_torch.utils import results
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import Preempted
from dlib_torch.utils.errors import UserError


class TrainingDivergedError(UserError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclasses.dataclass
class RuntimeSettings:
    """The `training_runtime` settings of a run."""
    device: str
    checkpoint_every_steps: int
    checkpoint_every_minutes: float
    log_every_steps: int
    compile: bool = False


@gin.configurable("training_runtime")
def training_runtime(device="auto", checkpoint_every_steps=5000, checkpoint_every_minutes=10.0,
                     log_every_steps=100, compile=False):  # pylint: disable=redefined-builtin (the gin name)
    """How a run executes, without changing its results: the device ('auto' = CUDA when available),
    checkpoints every `checkpoint_every_steps` global steps and every `checkpoint_every_minutes` minutes
    (TF's default interval), a progress report every `log_every_steps` global steps (the reference's 100),
    and `compile`: the model's forward pass and losses through `torch.compile` (see `compiled_model_fn`).
    """
    if checkpoint_every_steps < 1 or log_every_steps < 1:
        raise ConfigError("training_runtime.checkpoint_every_steps and .log_every_steps must be at least 1")
    validation.check_bool("training_runtime.compile", compile)
    return RuntimeSettings(device, int(checkpoint_every_steps), float(checkpoint_every_minutes),
                           int(log_every_steps), compile)


@contextlib.contextmanager
def compiled_model_fn(model, enabled):
    """Within the block (the training loop), `model.model_fn` is `torch.compile`d when `enabled`.

    Only the function is compiled, not the module, so checkpoints keep their parameter names and resume works
    the same. Random draws fall back to torch's generator (inductor's `fallback_random`), so a compiled run
    draws the eager run's noise and resumes exactly from its checkpoints; its losses differ from eager only
    by the rounding of fused kernels. The eager `model_fn` comes back for export and the final evaluation.
    """
    if not enabled:
        yield
        return
    import torch._inductor.config  # pylint: disable=import-outside-toplevel (only compiled runs need it)
    model.model_fn = torch.compile(model.model_fn)
    try:
        with torch._inductor.config.patch(fallback_random=True):  # pylint: disable=protected-access
            yield
    finally:
        del model.model_fn


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
    """Trains `model` on `dataset.name` (restricted by `held_out.split`), exports it, evaluates it, records it.

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
    if results.step_finished(model_dir, "train") and not overwrite:
        logging.info("%s holds a finished model; nothing to do (pass --overwrite to train it again)", model_dir)
        return
    output_dirs.check_output_directory(model_dir, "train", overwrite, keep_unfinished=True, finished_ok=True)
    runtime = training_runtime()
    device = device_lib.select_device(runtime.device)

    # Seeds as in the reference: the training data seed is the first draw, the evaluation seed the second.
    random_state = np.random.RandomState(random_seed)
    train_random_state = np.random.RandomState(random_state.randint(2**32))
    eval_seed = random_state.randint(2**32)
    dataset = load_training_data()
    torch.manual_seed(random_seed)
    model.build(dataset.observation_shape, dataset.factors_num_values)
    model.to(device)
    model_optimizers = model.make_optimizers()
    _check_model_runs(model, dataset, batch_size, device)

    with output_dirs.claim(model_dir, "train", overwrite, keep_unfinished=True, finished_ok=True) as claimed:
        if claimed.skip:  # another run finished it while this one waited for the lock
            return
        fingerprint = _config_fingerprint()
        global_step, previous_elapsed = 0, 0.0
        path = checkpoint.checkpoint_path(model_dir)
        if os.path.exists(path):
            state = checkpoint.load(path, device)
            if state["config_fingerprint"] != fingerprint:
                raise UserError("{} holds a checkpoint of a run with another gin configuration; rerun with the "
                                "same configuration to resume it, or pass --overwrite to start again".format(model_dir))
            checkpoint.restore(state, model, model_optimizers, train_random_state)
            global_step, previous_elapsed = state["global_step"], state["elapsed_time"]
            logging.info("Resuming %s from its checkpoint at global step %d", model_dir, global_step)
            if state["num_threads"] != torch.get_num_threads():
                logging.warning("The checkpoint was written with %d CPU threads and this run uses %d; CPU results "
                                "may then differ in the last bits from an uninterrupted run",
                                state["num_threads"], torch.get_num_threads())
        training_log.truncate_scalars(model_dir, global_step)
        experiment_timer = time.time() - previous_elapsed

        def save_checkpoint(step):
            checkpoint.save(path, model, model_optimizers, train_random_state, step, time.time() - experiment_timer,
                            fingerprint)

        log = training_log.TrainingLog(model_dir, training_steps, global_step)
        try:
            with compiled_model_fn(model, runtime.compile):
                global_step = training_loop(model, model_optimizers, dataset, train_random_state, batch_size,
                                            training_steps, global_step, device, runtime, log, save_checkpoint)
        finally:
            log.close()

        gaussian_encoder_model.export_as_torchscript(model.exported_modules(), os.path.join(model_dir, "exported"))
        results_dict = evaluate(model, dataset, np.random.RandomState(eval_seed), batch_size, eval_steps,
                                global_step, device)
        results_dict["elapsed_time"] = time.time() - experiment_timer
        results.update_result_directory(os.path.join(model_dir, "results"), "train", results_dict)


def load_training_data():
    """The data set training samples from: `dataset.name`, restricted to the kept side of `held_out.split`."""
    return splits.apply_held_out_split(named_data.get_named_ground_truth_data())


def training_loop(model, model_optimizers, dataset, random_state, batch_size, training_steps, global_step, device,
                  runtime, log, save_checkpoint):
    """Trains until the global step reaches `training_steps`; returns the final global step.

    Each iteration: sample a batch, forward, losses, backward, optimizer steps, then log and checkpoint
    when due. Scalars stay on the device between reports, so a GPU is not synchronised every step.
    """
    pending_scalars = []  # (global step, stacked scalars) since the last report
    last_checkpoint_time = time.monotonic()
    with preemption.PreemptionSignals() as signals:
        while global_step < training_steps:
            factors, observations = model_batch(model, dataset, batch_size, random_state, device)
            scalars = optimization_step(model, model_optimizers, observations, factors, global_step)
            pending_scalars.append((global_step, _stack_scalars(scalars)))
            previous_step, global_step = global_step, global_step + model.global_step_increment
            log.advance(model.global_step_increment)

            finished = global_step >= training_steps
            # One reading per iteration: a signal that arrives later (say during the report) is acted on at the
            # next step boundary, so the run never stops without the checkpoint.
            stop_signal = signals.received
            checkpoint_due = (finished or stop_signal is not None
                              or _crossed(previous_step, global_step, runtime.checkpoint_every_steps)
                              or time.monotonic() - last_checkpoint_time >= 60 * runtime.checkpoint_every_minutes)
            if checkpoint_due or _crossed(previous_step, global_step, runtime.log_every_steps):
                log.report(global_step, _mean_scalars(scalars.keys(), pending_scalars))
                pending_scalars = []
            if checkpoint_due:
                save_checkpoint(global_step)
                last_checkpoint_time = time.monotonic()
            if stop_signal is not None:
                raise Preempted("received {} at global step {}; a checkpoint is saved, run the same command again "
                                "to resume".format(stop_signal, global_step))
    return global_step


def optimization_step(model, model_optimizers, observations, factors, global_step):
    """One forward pass; each objective then updates only its own optimizer's parameters (TF's var_list).

    Returns the step's scalars (tensors on the device).
    """
    objectives, scalars = model.model_fn(observations, global_step, factors=factors)
    for optimizer in model_optimizers:
        optimizer.zero_grad()
    for i, (objective, optimizer) in enumerate(zip(objectives, model_optimizers)):
        objective.backward(inputs=optimizer.parameters if len(objectives) > 1 else None,
                           retain_graph=i + 1 < len(objectives))
    for optimizer in model_optimizers:
        optimizer.step(global_step)
    return scalars


def evaluate(model, dataset, random_state, batch_size, eval_steps, global_step, device):
    """Averages the model's scalars over `eval_steps` fresh batches (the reference's final evaluation).

    Returns the reference's keys (`loss`, `reconstruction_loss`, `elbo` (the ELBO, i.e. negated), `regularizer`,
    `kl_loss`, as the model reports them) and `global_step`.
    """
    model.eval()
    totals, names = None, []
    with torch.no_grad():
        for _ in range(eval_steps):
            factors, observations = model_batch(model, dataset, batch_size, random_state, device)
            _, scalars = model.model_fn(observations, global_step, factors=factors)
            names = list(scalars)
            batch_values = _stack_scalars(scalars).double()
            totals = batch_values if totals is None else totals + batch_values
    model.train()
    results_dict = {}
    if totals is not None:
        results_dict = dict(zip(names, (totals / eval_steps).cpu().tolist()))
    results_dict["global_step"] = int(global_step)
    return results_dict


def model_batch(model, dataset, batch_size, random_state, device):
    """One training batch for `model`: its own `sample_batch(dataset, batch_size, random_state, device)` when it
    has one (pairs, triplets, labels: what its model_fn takes as `factors`), else `sample_batch`."""
    sampler = getattr(model, "sample_batch", None)
    if sampler is not None:
        return sampler(dataset, batch_size, random_state, device)
    return sample_batch(dataset, batch_size, random_state, model.needs_factors, device)


def sample_batch(dataset, batch_size, random_state, with_factors, device):
    """Draws one i.i.d. batch: (factors as int64 tensor or None, observations as float32 NHWC tensor)."""
    if with_factors:
        factors, observations = dataset.sample(batch_size, random_state)
        factors = torch.from_numpy(np.asarray(factors, dtype=np.int64)).to(device)
    else:
        factors, observations = None, dataset.sample_observations(batch_size, random_state)
    return factors, torch.from_numpy(np.asarray(observations, dtype=np.float32)).to(device)


def _stack_scalars(scalars):
    """The scalars of one batch as one float32 tensor on the model's device (no synchronisation)."""
    values = list(scalars.values())
    device = next((v.device for v in values if torch.is_tensor(v)), torch.device("cpu"))
    return torch.stack([torch.as_tensor(v, dtype=torch.float32, device=device).detach() for v in values])


def _mean_scalars(names, pending_scalars):
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


def _crossed(previous_step, step, every):
    """True if a multiple of `every` lies in (previous_step, step]."""
    return step // every > previous_step // every


def _config_fingerprint():
    """The parsed gin config, without the settings that do not change results (so a resume may alter them)."""
    lines = gin.config_str().splitlines()
    return "\n".join(line for line in lines
                     if line.strip() and not line.startswith("#") and not line.startswith("training_runtime."))


def _check_model_runs(model, dataset, batch_size, device):
    """Runs one forward pass on a batch drawn with a separate seed, RNGs untouched, so that configuration
    errors (a missing binding, an architecture that does not fit the images) surface before any work."""
    cuda_devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    model.eval()  # layers with running statistics keep them
    with torch.random.fork_rng(devices=cuda_devices), torch.no_grad():
        factors, observations = model_batch(model, dataset, min(batch_size, 2), np.random.RandomState(0), device)
        try:
            model.model_fn(observations, 0, factors=factors)
        except UserError:
            raise
        except (RuntimeError, ValueError, TypeError) as e:
            if "Required bindings" in str(e):
                raise
            raise ConfigError("the configured model cannot process a batch of {} observations: {}".format(
                list(dataset.observation_shape), " ".join(str(e).split()))) from e
    model.train()
