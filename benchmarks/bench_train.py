"""Speed of dtl_train's training loop against a bare PyTorch loop of the same model and batch.

    python benchmarks/bench_train.py [--steps=200] [--warmup=20] [--rounds=3] [--batch_size=64] [--compile]
                                     [--model=vae] [--architecture=conv] [--dataset=dsprites_procedural]
                                     [--device=cpu|cuda|auto] [--prefetch_batches=2] [--data_on_device=auto]
                                     [--threads=N]

The real loop is `trainer.train_model` (the one loop of training/loop.py) as `dtl_train` runs it: i.i.d. sampling from the data set, forward,
losses, backward, optimizer steps, scalars kept for the reports, NaN checks, signal checks, progress reports
and the scalars file. It writes a checkpoint at the end of each round; that write is timed apart and left
out of the loop's rate (a real run writes one every 5000 steps or 10 minutes), and its time is printed.
The bare loop reuses one pre-sampled batch and does forward, backward and step only. Both loops run in
alternating rounds on one model. Prints iterations/s of both (best round, and all rounds), the median of the
rounds' ratios (the headline; target >= 0.95) and the ratio of the best rounds, images/s and peak RSS.
--model=group_vae_argmax (weakly supervised) and --model=s2_vae (semi-supervised) compare the same way: their
real loop draws pairs, or unlabelled batches plus labelled rows, as dtl_train_{weakly,semi}_supervised do; the
bare loop reuses one such batch. Both models see 2 x batch_size images per iteration.
The real loop runs twice per round: batches drawn in the loop (training_runtime.prefetch_batches = 0) and drawn
ahead by the prefetch thread (--prefetch_batches; pinned memory and a non-blocking copy on CUDA). For each it
prints the data cost per step: the time the loop waited for its batch. --data_on_device (auto/true/false) holds
the data set's whole image array on the device (data sets with stored images only; 'auto': on CUDA when it
fits). On CUDA it also prints the GPU's utilisation during each loop (torch.cuda.utilization with pynvml, else
nvidia-smi sampled in a thread, else 'not available'). Ratio targets: >= 0.95 on the CPU, >= 0.97 on CUDA.
--compile runs the real loop with its networks compiled (`training_runtime.compile = True`,
runtime.compiled_networks) against the same eager bare loop (target >= 1.3); the warm-up, which compiles, is
timed apart.
"""
import argparse
import resource
import sys
import tempfile
import time

import gin
import numpy as np
import torch

from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.weak import weak_vae  # pylint: disable=unused-import (registers the weak models)
from dlib_torch.methods.semi_supervised import semi_supervised_utils
from dlib_torch.methods.semi_supervised import semi_supervised_vae
from dlib_torch.methods.unsupervised import train
from dlib_torch.training import batches
from dlib_torch.training import checkpoint
from dlib_torch.training import runtime as runtime_lib
from dlib_torch.training import trainer
from dlib_torch.training import training_log
from dlib_torch.utils import allocator
from dlib_torch.utils import device as device_lib
from dlib_torch.utils.errors import ConfigError
from gpu_utilisation import GpuUtilisation  # benchmarks/gpu_utilisation.py, beside this script

MODELS = {
    "vae": ["model.model = @vae()", "vae.beta = 1."],
    "factor_vae": ["model.model = @factor_vae()", "factor_vae.gamma = 10.",
                   "discriminator.discriminator_fn = @fc_discriminator",
                   "discriminator_optimizer.optimizer_fn = @discriminator/AdamOptimizer",
                   "discriminator/AdamOptimizer.beta1 = 0.5", "discriminator/AdamOptimizer.beta2 = 0.9"],
    "beta_tc_vae": ["model.model = @beta_tc_vae()", "beta_tc_vae.beta = 6."],
    "gt_decoder": ["model.model = @gt_decoder()"],
    # Weakly supervised (pairs: 2 x batch_size images per iteration) and semi-supervised (batch_size unlabelled
    # plus batch_size labelled images, from 1000 labels drawn once).
    "group_vae_argmax": ["model.model = @group_vae_argmax()", "group_vae.beta = 1.", "dynamics.k = -1"],
    "s2_vae": ["model.model = @s2_vae", "s2_vae.beta = 1.", "s2_vae.gamma_sup = 1.", "supervised_loss.loss_fn = @xent",
               "annealer.anneal_fn = @fixed", "annealer.iteration_threshold = 1",
               "labeller.labeller_fn = @perfect_labeller"],
}
NUM_LABELLED_SAMPLES = 1000
IMAGES_PER_EXAMPLE = {"group_vae_argmax": 2, "s2_vae": 2}
ARCHITECTURES = {
    "conv": ["encoder.encoder_fn = @conv_encoder", "decoder.decoder_fn = @deconv_decoder"],
    "fc": ["encoder.encoder_fn = @fc_encoder", "decoder.decoder_fn = @fc_decoder"],
}


def build(args):
    """The model, its optimizers and the data set, configured as in the reference's shared.gin."""
    gin.clear_config()
    gin.parse_config(MODELS[args.model] + ARCHITECTURES[args.architecture] + [
        "dataset.name = '{}'".format(args.dataset), "encoder.num_latent = 10",
        "reconstruction_loss.loss_fn = @bernoulli_loss", "vae_optimizer.optimizer_fn = @vae/AdamOptimizer",
        "vae/AdamOptimizer.learning_rate = 0.0001"])
    dataset = named_data.get_named_ground_truth_data()
    device = device_lib.select_device(args.device)
    torch.manual_seed(0)
    configurable = gin.get_configurable(MODELS[args.model][0].split("@")[1].rstrip("()"))
    factors_num_values = dataset.factors_num_values
    if issubclass(configurable, semi_supervised_vae.BaseS2VAE):  # as train_semi_supervised_lib builds it
        observations, labels, factors_num_values = semi_supervised_utils.sample_supervised_data(
            0, dataset, NUM_LABELLED_SAMPLES)
        model = configurable(factors_num_values)
        model.set_labelled_data(*semi_supervised_utils.train_test_split(observations, labels, NUM_LABELLED_SAMPLES,
                                                                        0.9))
    else:
        model = configurable()
    model.build(dataset.observation_shape, factors_num_values).to(device)
    return model, model.make_optimizers(), dataset, device


def time_real_loop(model, optimizers, dataset, random_state, args, device, model_dir, start_step, steps, source,
                   prefetch_batches):
    """(Iterations/s of `steps` iterations of the real loop without its checkpoint write, the global step
    reached, the seconds that write took, the seconds per step the loop waited for its batch)."""
    runtime = runtime_lib.RuntimeSettings(device=str(device), checkpoint_every_steps=5000, checkpoint_every_minutes=10.0,
                                    log_every_steps=100, prefetch_batches=prefetch_batches,
                                    data_on_device=source.device_images is not None)
    waited_before, taken_before = source.wait_seconds, source.batches_taken
    end_step = start_step + steps * model.global_step_increment
    log = training_log.TrainingLog(model_dir, end_step, start_step, use_bar=False)
    checkpoint_seconds = []

    def save(step):
        started = time.perf_counter()
        checkpoint.save(checkpoint.checkpoint_path(model_dir), model, optimizers, random_state, step, 0.0, "")
        checkpoint_seconds.append(time.perf_counter() - started)

    _synchronize(device)
    start = time.perf_counter()
    end_step = trainer.train_model(model, optimizers, random_state, end_step, start_step, runtime, log, save, source)
    _synchronize(device)
    elapsed = time.perf_counter() - start
    log.close()
    wait_per_step = (source.wait_seconds - waited_before) / max(1, source.batches_taken - taken_before)
    return steps / (elapsed - sum(checkpoint_seconds)), end_step, sum(checkpoint_seconds), wait_per_step


def time_bare_loop(model, optimizers, factors, observations, device, start_step, steps):
    """Iterations/s of `steps` iterations of forward, backward and step on one fixed batch."""
    _synchronize(device)
    start = time.perf_counter()
    global_step = start_step
    for _ in range(steps):
        trainer.optimization_step(model, optimizers, observations, factors, global_step)
        global_step += model.global_step_increment
    _synchronize(device)
    return steps / (time.perf_counter() - start)


def _synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _data_on_device(text):
    return {"auto": "auto", "true": True, "false": False}[text.lower()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200, help="timed iterations per round and loop")
    parser.add_argument("--warmup", type=int, default=20, help="untimed iterations of each loop first")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the loops")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--model", choices=sorted(MODELS), default="vae")
    parser.add_argument("--architecture", choices=sorted(ARCHITECTURES), default="conv")
    parser.add_argument("--dataset", default="dsprites_procedural")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--prefetch_batches", type=int, default=batches.AUTO_PREFETCH_BATCHES,
                        help="batches the prefetch thread draws ahead in the prefetching loop")
    parser.add_argument("--data_on_device", type=_data_on_device, default="auto", help="auto, true or false")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--compile", action="store_true",
                        help="the real loop with training_runtime.compile = True (the bare loop stays eager)")
    args = parser.parse_args(argv)
    allocator.keep_freed_memory()  # as every dtl_* command does at start
    if args.threads:
        torch.set_num_threads(args.threads)

    model, optimizers, dataset, device = build(args)
    try:
        batches.choose_prefetch(args.prefetch_batches, model, device)
        variants = [("prefetch off", 0), ("prefetch {}".format(args.prefetch_batches), args.prefetch_batches)]
    except ConfigError as e:
        print("prefetch: {}".format(e))
        variants = [("prefetch off", 0)]
    try:
        device_images = batches.choose_device_images(args.data_on_device, model, dataset, device)
    except ConfigError as e:
        parser.error(str(e))
    source = batches.BatchSource(model, dataset, args.batch_size, device, device_images)
    random_state = np.random.RandomState(0)
    factors, observations = source.draw(random_state)
    real = {name: [] for name, _ in variants}
    waits = {name: [] for name, _ in variants}
    utilisation = {name: [] for name, _ in variants + [("bare", 0)]}
    bare, checkpoint_seconds = [], []
    gpu = GpuUtilisation(device)

    def bare_round(step, steps):
        with gpu:
            speed = time_bare_loop(model, optimizers, factors, observations, device, step, steps)
        utilisation["bare"].append(gpu.text())
        return speed

    with tempfile.TemporaryDirectory() as model_dir:
        step = 0
        warmup_start = time.perf_counter()
        for _, prefetch_batches in variants:
            with runtime_lib.compiled_networks(model, args.compile):
                _, step, _, _ = time_real_loop(model, optimizers, dataset, random_state, args, device, model_dir,
                                               step, args.warmup, source, prefetch_batches)
        warmup_seconds = time.perf_counter() - warmup_start
        time_bare_loop(model, optimizers, factors, observations, device, step, args.warmup)
        for round_index in range(args.rounds):
            # Alternate which loop goes first, so that drift of the machine's speed favours none.
            if round_index % 2:
                bare.append(bare_round(step, args.steps))
            for name, prefetch_batches in (variants if round_index % 2 == 0 else variants[::-1]):
                with gpu, runtime_lib.compiled_networks(model, args.compile):
                    speed, step, seconds, wait = time_real_loop(model, optimizers, dataset, random_state, args, device,
                                                                model_dir, step, args.steps, source, prefetch_batches)
                utilisation[name].append(gpu.text())
                real[name].append(speed)
                waits[name].append(wait)
                checkpoint_seconds.append(seconds)
            if not round_index % 2:
                bare.append(bare_round(step, args.steps))
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    images = args.batch_size * IMAGES_PER_EXAMPLE.get(args.model, 1)
    target = 1.3 if args.compile else 0.97 if device.type == "cuda" else 0.95
    print("model={} architecture={} dataset={} batch_size={} device={}{} threads={} steps={}x{} rounds "
          "data_on_device={} compile={}".format(
              args.model, args.architecture, args.dataset, args.batch_size, device,
              " ({})".format(torch.cuda.get_device_name(device)) if device.type == "cuda" else "",
              torch.get_num_threads(), args.steps, args.rounds, source.device_images is not None, args.compile))
    print("warm-up of the real loop ({} x {} iterations{}): {:.1f} s".format(
        len(variants), args.warmup, ", compiling included" if args.compile else "", warmup_seconds))
    for name, _ in variants:
        print("dtl_train loop, {:13s}: {:8.2f} iterations/s  {:9.1f} images/s  (rounds: {})".format(
            name, max(real[name]), max(real[name]) * images, ", ".join("{:.2f}".format(v) for v in real[name])))
    print("bare loop                    : {:8.2f} iterations/s  {:9.1f} images/s  (rounds: {})".format(
        max(bare), max(bare) * images, ", ".join("{:.2f}".format(v) for v in bare)))
    for name, _ in variants:
        print("ratio dtl_train ({})/bare: median of the rounds' ratios {:.3f} (target >= {}); best rounds "
              "{:.3f}".format(name, float(np.median(np.array(real[name]) / np.array(bare))), target,
                              max(real[name]) / max(bare)))
    for name, _ in variants:
        print("data cost per step, {:13s}: {:.3f} ms waited for the batch (median of the rounds; rounds: {})".format(
            name, 1e3 * float(np.median(waits[name])), ", ".join("{:.3f}".format(1e3 * w) for w in waits[name])))
    for name in utilisation:
        print("GPU utilisation, {:16s}: {}".format(name, "; ".join(utilisation[name]) or "-"))
    print("checkpoint write: {:.3f} s (median; excluded above)".format(float(np.median(checkpoint_seconds))))
    print("peak RSS: {:.0f} MiB".format(peak_rss_mib))
    return 0


if __name__ == "__main__":
    sys.exit(main())
