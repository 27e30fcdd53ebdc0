"""The training stage's machinery, free of the gin `model` configurable: the loop, checkpoints, evaluation, records.

`run_training` does what `dtl_train` promises (see train.py) for any model and data set; the trainers of
train.py (unsupervised and weakly supervised models) and of methods/semi_supervised/ call it with their own
seeds and data. It lives apart from train.py because each trainer registers its own gin `model` configurable,
as in the reference, and two of them in one process would make `model.*` bindings ambiguous.
"""
import contextlib
import dataclasses
import inspect
import os
import time
from typing import Optional, Union

from absl import logging
import gin
import numpy as np
import torch

from dlib_torch.methods.unsupervised import batches
from dlib_torch.methods.unsupervised import checkpoint
from dlib_torch.methods.unsupervised import gaussian_encoder_model
from dlib_torch.methods.unsupervised import model_selection
from dlib_torch.methods.unsupervised import prefetch
from dlib_torch.methods.unsupervised import preemption
from dlib_torch.methods.unsupervised import training_log
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import output_dirs
from dlib_torch.utils import results
from dlib_torch.utils import threads
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import Preempted
from dlib_torch.utils.errors import UserError

# Drawing batches lives in batches.py; these names stay importable from here (and from train.py).
model_batch = batches.model_batch
sample_batch = batches.sample_batch

MAX_PREFETCH_BATCHES = 64  # training_runtime.prefetch_batches' upper bound: each batch waits in memory


class TrainingDivergedError(UserError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclasses.dataclass
class RuntimeSettings:
    """The `training_runtime` settings of a run."""
    device: str
    checkpoint_every_steps: int
    checkpoint_every_minutes: float
    log_every_steps: int
    num_threads: Optional[int] = None
    prefetch_batches: Union[int, str] = "auto"
    data_on_device: Union[bool, str] = "auto"
    compile: bool = False


@gin.configurable("training_runtime")
def training_runtime(device="auto", checkpoint_every_steps=5000, checkpoint_every_minutes=10.0,
                     log_every_steps=100, num_threads=None, prefetch_batches="auto", data_on_device="auto",
                     compile=False):  # pylint: disable=redefined-builtin (the gin name)
    """How a run executes, without changing its results: the device ('auto' = CUDA when available),
    checkpoints every `checkpoint_every_steps` global steps and every `checkpoint_every_minutes` minutes
    (TF's default interval), a progress report every `log_every_steps` global steps (the reference's 100),
    `num_threads` CPU threads (None: what the process may use, see utils/threads.py; CPU results are bitwise
    reproducible for a fixed thread count, so a resumed run keeps its checkpoint's count when it may),
    `prefetch_batches` batches drawn ahead by a background thread (0: off; 'auto': 2 on CUDA, 0 on the CPU;
    see prefetch.py), and `data_on_device` (True, False or 'auto': on CUDA when the data set is a stored image
    array taking at most half the free GPU memory) to hold the whole image set on the device (batches.py),
    and `compile`: the model's networks through `torch.compile` during the loop (see `compiled_networks`).
    """
    return RuntimeSettings(
        validation.check_string("training_runtime.device", device),
        validation.check_int("training_runtime.checkpoint_every_steps", checkpoint_every_steps, minimum=1),
        validation.check_float("training_runtime.checkpoint_every_minutes", checkpoint_every_minutes, minimum=0),
        validation.check_int("training_runtime.log_every_steps", log_every_steps, minimum=1),
        None if num_threads is None else validation.check_int("training_runtime.num_threads", num_threads,
                                                              minimum=1),
        _auto_or("training_runtime.prefetch_batches", prefetch_batches,
                 lambda name, value: validation.check_int(name, value, minimum=0, maximum=MAX_PREFETCH_BATCHES),
                 "an integer >= 0 and <= {}".format(MAX_PREFETCH_BATCHES)),
        _auto_or("training_runtime.data_on_device", data_on_device, validation.check_bool, "True or False"),
        validation.check_bool("training_runtime.compile", compile))


@contextlib.contextmanager
def compiled_networks(model, enabled):
    """Within the block (the training loop), each network of `model` (its child modules: encoder, decoder,
    discriminator, ...) runs its forward and backward through `torch.compile` (inductor; on the CPU it needs a
    C++ compiler), when `enabled`.

    `nn.Module.compile` compiles in place, so parameter names, checkpoints and resume stay as in eager runs,
    and the model's own step (its losses, the noise it draws from torch's generator, the optimizers' foreach
    updates) stays eager, so a compiled run draws the eager run's noise and differs from it only by the
    rounding of fused kernels. Export and the final evaluation run the eager networks again.
    Measured on the CPU (README, Benchmarks): no faster than eager, as convolutions take 3/4 of the step.
    """
    if not enabled:
        yield
        return
    # pylint: disable-next=import-outside-toplevel (only compiled runs need it)
    from torch._functorch import config as functorch_config
    networks = list(model.children())
    for network in networks:
        network.compile()
    try:
        # Models with two objectives on one forward pass (FactorVAE) call backward with retain_graph=True,
        # which compiled backward functions with donated buffers refuse.
        with functorch_config.patch(donated_buffer=False):
            yield
    finally:
        for network in networks:
            network._compiled_call_impl = None  # pylint: disable=protected-access (undoes nn.Module.compile)


def _auto_or(name, value, check, allowed):
    """'auto', or a value `check(name, value)` accepts; a refusal names both."""
    if isinstance(value, str) and value == "auto":
        return value
    try:
        return check(name, value)
    except ConfigError:
        raise ConfigError("{} = {!r} is not allowed; it must be 'auto' or {}".format(name, value, allowed)) from None


def training_loop(model, model_optimizers, dataset, random_state, batch_size, training_steps, global_step, device,
                  runtime, log, save_checkpoint, after_step=None, batch_source=None):
    """Trains until the global step reaches `training_steps`; returns the final global step.

    `after_step(model, previous_step, global_step)`, if given, runs after every step, before its checkpoint.
    `batch_source` (default: host-side batches of `dataset`) is a batches.BatchSource; batches are drawn ahead
    as `runtime.prefetch_batches` says, and `random_state` is always at the next batch the model consumes, so
    `save_checkpoint` stores the stream an uninterrupted run continues with.

    Each iteration: sample a batch, forward, losses, backward, optimizer steps, then log and checkpoint
    when due. Scalars stay on the device between reports, so a GPU is not synchronised every step.
    """
    if batch_source is None:
        batch_source = batches.BatchSource(model, dataset, batch_size, device)
    pending_scalars = []  # (global step, stacked scalars) since the last report
    last_checkpoint_time = time.monotonic()
    with preemption.PreemptionSignals() as signals, prefetch.batch_stream(
            batch_source, random_state, batches.choose_prefetch(runtime.prefetch_batches, model, device)) as stream:
        while global_step < training_steps:
            factors, observations = stream.next()
            scalars = optimization_step(model, model_optimizers, observations, factors, global_step)
            pending_scalars.append((global_step, _stack_scalars(scalars)))
            previous_step, global_step = global_step, global_step + model.global_step_increment
            log.advance(model.global_step_increment)
            if after_step is not None:
                after_step(model, previous_step, global_step)

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


def evaluate(model, dataset, random_state, batch_size, eval_steps, global_step, device, batch_source=None):
    """Averages the model's scalars over `eval_steps` fresh batches (the reference's final evaluation), drawn
    by `batch_source` when given (the same values as host-side batches).

    Returns the reference's keys (`loss`, `reconstruction_loss`, `elbo` (the ELBO, i.e. negated), `regularizer`,
    `kl_loss`, as the model reports them) and `global_step`.
    """
    model.eval()
    totals, names = None, []
    with torch.no_grad():
        for _ in range(eval_steps):
            if batch_source is None:
                factors, observations = model_batch(model, dataset, batch_size, random_state, device)
            else:
                factors, observations = batch_source.draw(random_state)
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


def already_trained(model_dir, overwrite, inputs=()):
    """True (saying so) if `model_dir` holds a finished model and not `overwrite`; else checks, without side
    effects, that the directory may be trained into and that `training_runtime` is valid. Call it before
    loading data."""
    if output_dirs.check_output_directory(model_dir, "train", overwrite, inputs=inputs, keep_unfinished=True,
                                          finished_ok=True) == "finished_ok":
        logging.info("%s holds a finished model; nothing to do (pass --overwrite to train it again)", model_dir)
        return True
    training_runtime()
    return False


def run_training(model_dir, overwrite, model, dataset, training_steps, batch_size, eval_steps, torch_seed,
                 train_random_state, eval_random_state, factors_num_values=None):
    """Builds `model` (after seeding torch with `torch_seed`), trains it on `dataset` from its checkpoint if
    any, exports it, evaluates it on `eval_steps` batches drawn with `eval_random_state`, writes step `train`.

    `factors_num_values` (default: the data set's) is what `model.build` receives; `train_random_state` is the
    data stream the checkpoint carries.
    """
    runtime = training_runtime()
    selection = model_selection.model_selection()
    inputs = list(getattr(model, "input_directories", ()))  # directories a model reads (a Composer's VAE)
    threads.configure(runtime.num_threads, "training_runtime.num_threads",
                      lambda line: logging.info("Training %s: %s", model_dir, line))
    device = device_lib.select_device(runtime.device)
    torch.manual_seed(torch_seed)
    if factors_num_values is None:
        factors_num_values = dataset.factors_num_values
    # Models whose build takes `factor_names` (the ground-truth decoder's raw inputs) get them too.
    named = "factor_names" in inspect.signature(model.build).parameters
    model.build(dataset.observation_shape, factors_num_values,
                **({"factor_names": list(dataset.factor_names)} if named else {}))
    model.to(device)
    model_optimizers = model.make_optimizers()
    _check_model_runs(model, dataset, batch_size, device)
    batches.choose_prefetch(runtime.prefetch_batches, model, device)  # refuses an impossible setting now
    batch_source = batches.BatchSource(model, dataset, batch_size, device, batches.choose_device_images(
        runtime.data_on_device, model, dataset, device))

    with output_dirs.claim(model_dir, "train", overwrite, inputs=inputs, keep_unfinished=True,
                           finished_ok=True) as claimed:
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
            if (runtime.num_threads is None and state["num_threads"] != torch.get_num_threads()
                    and state["num_threads"] <= threads.available_cpus()[0]):
                threads.use_threads(state["num_threads"])  # the checkpoint's count: a bitwise-identical resume
                logging.info("Using the checkpoint's %d CPU threads", state["num_threads"])
            if state["num_threads"] != torch.get_num_threads():
                logging.warning("The checkpoint was written with %d CPU threads and this run uses %d; CPU results "
                                "may then differ in the last bits from an uninterrupted run",
                                state["num_threads"], torch.get_num_threads())
        training_log.truncate_scalars(model_dir, global_step)
        experiment_timer = time.time() - previous_elapsed

        def save_checkpoint(step):
            checkpoint.save(path, model, model_optimizers, train_random_state, step, time.time() - experiment_timer,
                            fingerprint)

        best = None
        if selection is not None:
            best = model_selection.BestCheckpoint(
                model_dir, selection, batch_source.draw)
        log = training_log.TrainingLog(model_dir, training_steps, global_step)
        try:
            with compiled_networks(model, runtime.compile):
                global_step = training_loop(model, model_optimizers, dataset, train_random_state, batch_size,
                                            training_steps, global_step, device, runtime, log, save_checkpoint,
                                            after_step=best.after_step if best else None,
                                            batch_source=batch_source)
        finally:
            log.close()

        selected = best.restore_best(model, device) if best else {}

        # A signal during the export or the final evaluation stops the run before its records (exit 75); the
        # rerun resumes from the final checkpoint, exports again and writes them.
        with preemption.PreemptionSignals() as signals:
            gaussian_encoder_model.export_as_torchscript(model.exported_modules(),
                                                         os.path.join(model_dir, "exported"))
            results_dict = evaluate(model, dataset, eval_random_state, batch_size, eval_steps, global_step, device,
                                    batch_source)
            results_dict.update(selected)
            if signals.received is not None:
                raise Preempted("received {} while exporting the trained model; the final checkpoint is saved, "
                                "run the same command again to finish".format(signals.received))
        results_dict["elapsed_time"] = time.time() - experiment_timer
        results.update_result_directory(os.path.join(model_dir, "results"), "train", results_dict)
