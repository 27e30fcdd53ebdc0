"""Training a model of methods/ (anything with build, make_optimizers, model_fn and exported_modules; see
methods/unsupervised/gaussian_encoder_model.py) in a model directory: claim it, build and check the model, resume
its checkpoint, train it through the one loop, select the best parameters, export, evaluate and record step
`train`.

`run_training` does what `dtl_train` promises for any model and data set; the trainers of methods/ (unsupervised,
weakly and semi-supervised models, the ground-truth decoder, the Composer) call it with their own seeds and data.
It lives apart from them because each trainer registers its own gin `model` configurable, as in the reference,
and two of them in one process would make `model.*` bindings ambiguous.
"""
import inspect
import os

from absl import logging
import numpy as np
import torch

from dlib_torch.training import batches
from dlib_torch.training import loop
from dlib_torch.training import model_selection
from dlib_torch.training import preemption
from dlib_torch.training import prefetch
from dlib_torch.training import runtime as runtime_lib
from dlib_torch.training import session as session_lib
from dlib_torch.training import training_log
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import exported_modules
from dlib_torch.utils import output_dirs
from dlib_torch.utils import results
from dlib_torch.utils import threads
from dlib_torch.utils.errors import Preempted


def train_model(model, model_optimizers, random_state, training_steps, global_step, runtime, log, save_checkpoint,
                batch_source, after_step=None):
    """Trains `model` through the one loop (loop.py) until the global step reaches `training_steps`; returns it.

    Batches come from `batch_source` (a batches.BatchSource), drawn ahead as `runtime.prefetch_batches` says;
    `random_state` is always at the next batch the model consumes, so `save_checkpoint` stores the stream an
    uninterrupted run continues with. `after_step(model, previous_step, global_step)` runs after every step.
    """
    prefetch_batches = batches.choose_prefetch(runtime.prefetch_batches, model, batch_source.device)
    with prefetch.batch_stream(batch_source, random_state, prefetch_batches) as stream:
        return loop.training_loop(
            lambda batch, step: optimization_step(model, model_optimizers, batch[1], batch[0], step), stream.next,
            global_step, training_steps, runtime_lib.schedule(runtime), log, save_checkpoint,
            step_increment=model.global_step_increment,
            after_step=None if after_step is None else lambda previous, step: after_step(model, previous, step))


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
                factors, observations = batches.model_batch(model, dataset, batch_size, random_state, device)
            else:
                factors, observations = batch_source.draw(random_state)
            _, scalars = model.model_fn(observations, global_step, factors=factors)
            names = list(scalars)
            batch_values = loop.stack_scalars(scalars).double()
            totals = batch_values if totals is None else totals + batch_values
    model.train()
    results_dict = {}
    if totals is not None:
        results_dict = dict(zip(names, (totals / eval_steps).cpu().tolist()))
    results_dict["global_step"] = int(global_step)
    return results_dict


def _check_model_runs(model, dataset, batch_size, device):
    """Runs one forward pass on a batch drawn with a separate seed, RNGs untouched, so that configuration
    errors (a missing binding, an architecture that does not fit the images) surface before any work."""
    cuda_devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    model.eval()  # layers with running statistics keep them
    with torch.random.fork_rng(devices=cuda_devices), torch.no_grad():
        factors, observations = batches.model_batch(model, dataset, min(batch_size, 2), np.random.RandomState(0),
                                                    device)
        loop.probe(lambda: model.model_fn(observations, 0, factors=factors),
                   "the configured model cannot process a batch of {} observations".format(
                       list(dataset.observation_shape)))
    model.train()


def already_trained(model_dir, overwrite, inputs=()):
    """True (saying so) if `model_dir` holds a finished model and not `overwrite`; else checks, without side
    effects, that the directory may be trained into and that `training_runtime` is valid. Call it before
    loading data."""
    if output_dirs.check_output_directory(model_dir, "train", overwrite, inputs=inputs, keep_unfinished=True,
                                          finished_ok=True) == "finished_ok":
        logging.info("%s holds a finished model; nothing to do (pass --overwrite to train it again)", model_dir)
        return True
    runtime_lib.training_runtime()
    return False


def run_training(model_dir, overwrite, model, dataset, training_steps, batch_size, eval_steps, torch_seed,
                 train_random_state, eval_random_state, factors_num_values=None):
    """Builds `model` (after seeding torch with `torch_seed`), trains it on `dataset` from its checkpoint if
    any, exports it, evaluates it on `eval_steps` batches drawn with `eval_random_state`, writes step `train`.

    `factors_num_values` (default: the data set's) is what `model.build` receives; `train_random_state` is the
    data stream the checkpoint carries.
    """
    runtime = runtime_lib.training_runtime()
    selection = model_selection.model_selection()
    inputs = list(getattr(model, "input_directories", ()))  # directories a model reads (a Composer's VAE)
    explicit_threads = threads.configure(runtime.num_threads, "training_runtime.num_threads",
                                         lambda line: logging.info("Training %s: %s", model_dir, line))[1]
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
        run = session_lib.Session(model_dir, model, model_optimizers, train_random_state, device,
                                  "training_runtime")
        if run.checkpoint_threads is not None:
            _resume_threads(run.checkpoint_threads, explicit_threads)
        best = model_selection.BestCheckpoint(model_dir, selection, batch_source.draw) if selection else None
        log = training_log.TrainingLog(model_dir, training_steps, run.global_step)
        try:
            with runtime_lib.compiled_networks(model, runtime.compile):
                global_step = train_model(model, model_optimizers, train_random_state, training_steps,
                                          run.global_step, runtime, log, run.save, batch_source,
                                          after_step=best.after_step if best else None)
        finally:
            log.close()

        selected = best.restore_best(model, device) if best else {}

        # A signal during the export or the final evaluation stops the run before its records (exit 75); the
        # rerun resumes from the final checkpoint, exports again and writes them.
        with preemption.PreemptionSignals() as signals:
            exported_modules.export_as_torchscript(model.exported_modules(), os.path.join(model_dir, "exported"))
            results_dict = evaluate(model, dataset, eval_random_state, batch_size, eval_steps, global_step, device,
                                    batch_source)
            results_dict.update(selected)
            if signals.received is not None:
                raise Preempted("received {} while exporting the trained model; the final checkpoint is saved, "
                                "run the same command again to finish".format(signals.received))
        results_dict["elapsed_time"] = run.elapsed()
        results.update_result_directory(os.path.join(model_dir, "results"), "train", results_dict)


def _resume_threads(checkpoint_threads, explicit):
    """On a resume: without a thread count chosen for this run (training_runtime.num_threads, OMP_NUM_THREADS),
    the checkpoint's, so the CPU results stay bit for bit those of an uninterrupted run; a chosen one wins."""
    current = torch.get_num_threads()
    if not explicit and checkpoint_threads != current and checkpoint_threads <= threads.available_cpus()[0]:
        threads.use_threads(checkpoint_threads)
        logging.info("Using the checkpoint's %d CPU threads (no count was chosen for this run; set "
                     "training_runtime.num_threads or OMP_NUM_THREADS to choose one)", checkpoint_threads)
    elif checkpoint_threads != torch.get_num_threads():
        logging.warning("The checkpoint was written with %d CPU threads and this run uses %d (%s); CPU results may "
                        "then differ in the last bits from an uninterrupted run", checkpoint_threads,
                        torch.get_num_threads(), "as chosen" if explicit else "all this process may use")
