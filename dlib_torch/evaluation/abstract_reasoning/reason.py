"""The abstract reasoning stage (`dtl_reason`): trains a reasoning model on PGMs over a frozen representation
(or over pixels, or the true factors) and records its validation and test accuracy after every iteration.

van Steenkiste et al., "Are Disentangled Representations Helpful for Abstract Visual Reasoning?", NeurIPS 2019.

`<output_dir>/` receives:
  checkpoints/latest.pt   after every iteration, every `reasoning_runtime.checkpoint_every_minutes` and when
                          preempted (written atomically; a rerun resumes from it),
  scalars.jsonl           training loss and accuracy, one JSON object per report (tensorboard/ when installed),
  results/                the input's records carried forward, plus step `abstract_reasoning`:
                          `step<k>.{val,test}.{accuracy,loss,global_step}` per iteration, `best.*` at the best
                          validation accuracy, `elapsed_time`, `uuid`.
As in the reference, `<k>` is the global step at the START of the iteration (`step0` is measured after the
first `training_steps_per_iteration` steps), and each iteration trains, validates and tests on PGMs of its own
seeds, drawn in the reference's order from RandomState(random_seed). Batch k of a seed is drawn from
RandomState([seed, k]) (the reference streams one generator per seed), so batches can be made ahead in worker
processes and a resumed run meets the same PGMs. A finished directory is left alone unless `overwrite`;
SIGTERM or SIGUSR1 writes a checkpoint at the next step and raises `Preempted` (exit 75); the same command
then resumes and, on the CPU, ends with the same results as an uninterrupted run.
"""
import dataclasses
import os

from absl import logging
import gin
import numpy as np
import torch

from dlib_torch.evaluation.abstract_reasoning import models  # also registers the models and @AdamOptimizer
from dlib_torch.evaluation.abstract_reasoning import pgm_data
from dlib_torch.training import loop
from dlib_torch.training import session
from dlib_torch.training import training_log
from dlib_torch.utils import auto_dataset
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import exported_modules
from dlib_torch.utils import gin_utils
from dlib_torch.utils import output_dirs
from dlib_torch.utils import results
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import UserError

STEP_NAME = "abstract_reasoning"


@dataclasses.dataclass
class RuntimeSettings:
    """The `reasoning_runtime` settings of a run (they do not change its results)."""
    device: torch.device
    num_workers: int
    log_every_steps: int
    checkpoint_every_minutes: float


@gin.configurable("reasoning_runtime")
def reasoning_runtime(device="auto", num_workers=None, log_every_steps=100, checkpoint_every_minutes=10.0):
    """How a run executes: the device ('auto' = CUDA when available), the worker processes that make PGM
    batches ahead of the training step (None: 0 on the CPU, whose cores train; up to 8 with a GPU), a report
    every `log_every_steps` steps, and a checkpoint every `checkpoint_every_minutes` minutes within iterations."""
    device = device_lib.select_device(device)
    if num_workers is None:  # with a GPU: the CPUs this process may use (a SLURM allocation), less two, up to 8
        num_workers = 0 if device.type == "cpu" else max(1, min(8, len(os.sched_getaffinity(0)) - 2))
    return RuntimeSettings(
        device, validation.check_int("reasoning_runtime.num_workers", num_workers, minimum=0),
        validation.check_int("reasoning_runtime.log_every_steps", log_every_steps, minimum=1),
        validation.check_float("reasoning_runtime.checkpoint_every_minutes", checkpoint_every_minutes, minimum=0.))


def reason_with_gin(input_dir, output_dir, overwrite=False, gin_config_files=None, gin_bindings=None):
    """Parses the gin files and bindings (errors name the culprit), runs `reason`, clears gin.

    Args:
      input_dir: directory of a postprocessed representation, or None for models that learn from pixels or
        see the true factors (then `dataset.name` must be bound).
      output_dir: directory of the results, e.g. `<out>/abstract_reasoning/<config>`.
      overwrite: replace a finished `output_dir`.
      gin_config_files: gin files to parse, in order.
      gin_bindings: gin bindings parsed after the files.
    """
    with gin_utils.configured(gin_config_files, gin_bindings):
        reason(input_dir, output_dir, overwrite)


def validate_parameters(num_iterations, training_steps_per_iteration, eval_steps_per_iteration, random_seed,
                        batch_size):
    """Checks the schedule before any work; returns it as ints."""
    return (validation.check_int("abstract_reasoning.num_iterations", num_iterations, minimum=1),
            validation.check_int("abstract_reasoning.training_steps_per_iteration", training_steps_per_iteration,
                                 minimum=1),
            validation.check_int("abstract_reasoning.eval_steps_per_iteration", eval_steps_per_iteration, minimum=1),
            validation.check_int("abstract_reasoning.random_seed", random_seed, minimum=0, maximum=2**32 - 1),
            validation.check_int("abstract_reasoning.batch_size", batch_size, minimum=1))


@gin.configurable("abstract_reasoning", denylist=["input_dir", "output_dir", "overwrite"])
def reason(input_dir, output_dir, overwrite=False, model=gin.REQUIRED, num_iterations=gin.REQUIRED,
           training_steps_per_iteration=gin.REQUIRED, eval_steps_per_iteration=gin.REQUIRED, random_seed=gin.REQUIRED,
           batch_size=gin.REQUIRED, name=""):
    """Trains `model` on PGMs for `num_iterations` iterations, validating and testing after each.

    Args:
      input_dir: directory of the postprocessed representation, or None.
      output_dir: directory of the results.
      overwrite: replace a finished `output_dir`.
      model: e.g. `@TwoStageModel()`.
      num_iterations: number of train/validate/test iterations.
      training_steps_per_iteration: training steps per iteration.
      eval_steps_per_iteration: batches of the validation and of the test of each iteration.
      random_seed: seed of torch and of the stream the data seeds are drawn from.
      batch_size: PGMs per batch.
      name: unused; names the run in the records.
    """
    del name
    num_iterations, steps_per_iteration, eval_steps, random_seed, batch_size = validate_parameters(
        num_iterations, training_steps_per_iteration, eval_steps_per_iteration, random_seed, batch_size)
    inputs = []
    if input_dir is not None:
        output_dirs.require_finished(input_dir, "postprocess", "dtl_reason reads a representation: postprocess a "
                                     "model first with dtl_postprocess --output_dir={}".format(input_dir))
        inputs = [input_dir]
    state = output_dirs.check_output_directory(output_dir, STEP_NAME, overwrite, inputs, finished_ok=True,
                                               keep_unfinished=True)
    if state == "finished_ok":
        logging.info("%s holds finished abstract reasoning results; nothing to do (pass --overwrite to redo them)",
                     output_dir)
        return
    if not isinstance(model, models.TwoStageModel):
        raise ConfigError("abstract_reasoning.model = {!r} is not allowed; it must be @TwoStageModel()".format(model))
    _bind_inputs(input_dir, model)
    pgm_dataset = pgm_data.get_pgm_dataset()
    runtime = reasoning_runtime()
    device = runtime.device

    torch.manual_seed(random_seed)
    network = _build_network(model, pgm_dataset, device)
    optimizer = model.make_optimizer(network)
    data = PGMBatches(pgm_dataset, batch_size, model.needs_images, device, runtime.num_workers)

    with output_dirs.claim(output_dir, STEP_NAME, overwrite, inputs=inputs, keep_unfinished=True,
                           finished_ok=True) as claimed:
        if claimed.skip:  # another run finished it while this one waited for the lock
            return
        random_state = np.random.RandomState(random_seed)
        run = session.Session(output_dir, network, [optimizer], random_state, device, "reasoning_runtime")
        progress = run.extra or {"iteration": 0, "train_seed": None, "records": []}
        global_step = run.global_step
        schedule = loop.Schedule(None, runtime.checkpoint_every_minutes, runtime.log_every_steps)
        log = training_log.TrainingLog(output_dir, num_iterations * steps_per_iteration, global_step)
        try:
            for iteration in range(progress["iteration"], num_iterations):
                if progress["train_seed"] is None:
                    progress["train_seed"] = int(random_state.randint(2**32))
                global_step = train_iteration(network, optimizer, data, progress["train_seed"], global_step,
                                              iteration * steps_per_iteration, (iteration + 1) * steps_per_iteration,
                                              schedule, log, lambda step: run.save(step, extra=progress))
                val_seed, test_seed = int(random_state.randint(2**32)), int(random_state.randint(2**32))
                record = {"val": evaluate(network, data, val_seed, eval_steps, global_step),
                          "test": evaluate(network, data, test_seed, eval_steps, global_step)}
                logging.info("Iteration %d/%d: validation %s, test %s", iteration + 1, num_iterations,
                             record["val"], record["test"])
                progress = {"iteration": iteration + 1, "train_seed": None,
                            "records": progress["records"] + [record]}
                run.save(global_step, extra=progress)
        finally:
            log.close()

        results_dict = results_from_records(progress["records"], steps_per_iteration)
        results_dict["elapsed_time"] = run.elapsed()
        results.update_result_directory(os.path.join(output_dir, "results"), STEP_NAME, results_dict,
                                        os.path.join(input_dir, "results") if input_dir is not None else None)


def results_from_records(records, steps_per_iteration):
    """The reference's keys: `step<k>.<val|test>.<metric>` per iteration and `best.*` at the best validation
    accuracy (the first one on ties, as np.argmax)."""
    per_step = {"step{}".format(i * steps_per_iteration): results.namespaced_dict(**record)
                for i, record in enumerate(records)}
    best = int(np.argmax([record["val"]["accuracy"] for record in records]))
    per_step["best"] = results.namespaced_dict(**records[best])
    return results.namespaced_dict(**per_step)


def train_iteration(network, optimizer, data, seed, global_step, iteration_start, iteration_end, schedule, log,
                    save_checkpoint):
    """Trains from `global_step` to `iteration_end` on the batches of `seed` through the one training loop
    (training/loop.py: reports, checkpoints by the clock, at the end and on SIGTERM/SIGUSR1, then Preempted);
    returns the final global step."""
    network.train()
    stream = data.batches(seed, global_step - iteration_start, iteration_end - iteration_start)
    return loop.training_loop(lambda batch, step: _train_step(network, optimizer, batch), lambda: next(stream),
                              global_step, iteration_end, schedule, log, save_checkpoint)


def _train_step(network, optimizer, batch):
    logits = network(batch)
    loss, accuracy = models.loss_and_accuracy(logits, batch["labels"])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"loss": loss, "accuracy": accuracy}


def evaluate(network, data, seed, eval_steps, global_step):
    """Accuracy and mean loss over `eval_steps` batches of `seed` (dropout off), and the global step."""
    network.eval()
    totals = None
    with torch.no_grad():
        for batch in data.batches(seed, 0, eval_steps):
            loss, accuracy = models.loss_and_accuracy(network(batch), batch["labels"])
            values = torch.stack([loss, accuracy]).double()
            totals = values if totals is None else totals + values
    network.train()
    loss, accuracy = (totals / eval_steps).cpu().tolist()
    return {"accuracy": accuracy, "loss": loss, "global_step": int(global_step)}


class PGMBatches:
    """Batches of PGMs as dicts of tensors on the device: batch k of `seed` is drawn from RandomState([seed, k]),
    in this process or, with `num_workers`, ahead of time in worker processes."""

    def __init__(self, pgm_dataset, batch_size, with_images, device, num_workers=0):
        self.pgm_dataset = pgm_dataset
        self.batch_size = batch_size
        self.with_images = with_images
        self.device = device
        self.num_workers = num_workers

    def batches(self, seed, start, stop):
        """Batches start..stop-1 of `seed`."""
        source = _SeededBatches(self.pgm_dataset, self.batch_size, self.with_images, seed)
        if self.num_workers == 0 or stop - start <= 1:
            loader = (source[k] for k in range(start, stop))
        else:
            # The loader's own generator: its worker seeds are not drawn from torch's global generator.
            loader = torch.utils.data.DataLoader(source, batch_size=None, sampler=range(start, stop),
                                                 num_workers=self.num_workers, prefetch_factor=4,
                                                 pin_memory=self.device.type == "cuda",
                                                 generator=torch.Generator().manual_seed(seed))
        for batch in loader:
            yield {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}


class _SeededBatches(torch.utils.data.Dataset):
    """Map-style data set: index k -> batch k of `seed` (dict of CPU tensors)."""

    def __init__(self, pgm_dataset, batch_size, with_images, seed):
        self.pgm_dataset = pgm_dataset
        self.batch_size = batch_size
        self.with_images = with_images
        self.seed = seed

    def __getitem__(self, k):
        batch = self.pgm_dataset.sample_batch(self.batch_size, [self.seed, int(k)], self.with_images)
        return {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in batch.items()}


def _bind_inputs(input_dir, model):
    """Binds `dataset.name` ('auto': the representation's) and `HubEmbedding.hub_path` to the input's."""
    if input_dir is not None:
        auto_dataset.resolve(os.path.join(input_dir, "results", "gin", "postprocess.gin"))
        hub_path = exported_modules.exported_path(input_dir, exported_modules.REPRESENTATION)
        if not os.path.exists(hub_path):
            raise UserError("{} has no exported representation ({} is missing); postprocess the model again with "
                            "dtl_postprocess --overwrite".format(input_dir, hub_path))
        with gin.unlock_config():
            gin.bind_parameter("HubEmbedding.hub_path", hub_path)
    elif gin_utils.query_parameter_or("dataset.name", "auto") == "auto":
        raise UserError("without --input_dir, dataset.name must be bound to the data set of the PGMs, e.g. "
                        "--gin_bindings=\"dataset.name = 'abstract_dsprites_procedural'\"")
    elif model.embedding_model_class is models.TorchScriptEmbedding and \
            gin_utils.query_parameter_or("HubEmbedding.hub_path", None) is None:
        raise UserError("TwoStageModel.embedding_model_class = @HubEmbedding reads a representation: pass "
                        "--input_dir=<postprocessed representation directory>")


def _build_network(model, pgm_dataset, device):
    """Builds the network and runs it once on a batch of another seed (RNGs untouched), so that configuration
    errors (a representation that does not fit the images, a missing binding) surface before any work."""
    data = pgm_dataset.ground_truth_data
    def build_and_probe():
        network = model.build(data.factors_num_values, data.observation_shape).to(device)
        cuda_devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda_devices), torch.no_grad():
            batch = _SeededBatches(pgm_dataset, 2, model.needs_images, 0)[0]
            network({k: v.to(device) for k, v in batch.items()})
        return network

    return loop.probe(build_and_probe, "the configured reasoning model cannot process PGMs of {} panels".format(
        list(data.observation_shape)))
