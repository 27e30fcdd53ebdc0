"""Speed of dtl_train's training loop against a bare PyTorch loop of the same model and batch.

    python benchmarks/bench_train.py [--steps=200] [--warmup=20] [--rounds=3] [--batch_size=64]
                                     [--model=vae] [--architecture=conv] [--dataset=dsprites_procedural]
                                     [--device=auto] [--threads=N] [--compile]

The real loop is `train.training_loop` as `dtl_train` runs it: i.i.d. sampling from the data set, forward,
losses, backward, optimizer steps, scalars kept for the reports, NaN checks, signal checks, progress reports
and the scalars file. It writes a checkpoint at the end of each round; that write is timed apart and left
out of the loop's rate (a real run writes one every 5000 steps or 10 minutes), and its time is printed.
The bare loop reuses one pre-sampled batch and does forward, backward and step only. Both loops run in
alternating rounds on one model. Prints iterations/s of both (best round, and all rounds), the median of the
rounds' ratios (the headline; target >= 0.95) and the ratio of the best rounds, images/s and peak RSS.
--model=group_vae_argmax (weakly supervised) and --model=s2_vae (semi-supervised) compare the same way: their
real loop draws pairs, or unlabelled batches plus labelled rows, as dtl_train_{weakly,semi}_supervised do; the
bare loop reuses one such batch. Both models see 2 x batch_size images per iteration.
With --compile the real loop runs with `training_runtime.compile = True` (the bare loop stays eager: the
target is compiled dtl_train >= 1.3x the bare eager loop); the warm-up, which compiles, is timed apart.
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
from dlib_torch.methods.unsupervised import training_log
from dlib_torch.utils import allocator
from dlib_torch.utils import device as device_lib

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


def time_real_loop(model, optimizers, dataset, random_state, args, device, model_dir, start_step, steps):
    """(Iterations/s of `steps` iterations of the real loop without its checkpoint write, the global step
    reached, the seconds that write took)."""
    runtime = train.training_runtime()
    end_step = start_step + steps * model.global_step_increment
    log = training_log.TrainingLog(model_dir, end_step, start_step, use_bar=False)
    checkpoint_seconds = []

    def save(step):
        started = time.perf_counter()
        train.checkpoint.save(train.checkpoint.checkpoint_path(model_dir), model, optimizers, random_state, step,
                              0.0, "")
        checkpoint_seconds.append(time.perf_counter() - started)

    _synchronize(device)
    start = time.perf_counter()
    end_step = train.training_loop(model, optimizers, dataset, random_state, args.batch_size, end_step,
                                   start_step, device, runtime, log, save)
    _synchronize(device)
    elapsed = time.perf_counter() - start
    log.close()
    return steps / (elapsed - sum(checkpoint_seconds)), end_step, sum(checkpoint_seconds)


def time_bare_loop(model, optimizers, factors, observations, device, start_step, steps):
    """Iterations/s of `steps` iterations of forward, backward and step on one fixed batch."""
    _synchronize(device)
    start = time.perf_counter()
    global_step = start_step
    for _ in range(steps):
        train.optimization_step(model, optimizers, observations, factors, global_step)
        global_step += model.global_step_increment
    _synchronize(device)
    return steps / (time.perf_counter() - start)


def _synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200, help="timed iterations per round and loop")
    parser.add_argument("--warmup", type=int, default=20, help="untimed iterations of each loop first")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the two loops")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--model", choices=sorted(MODELS), default="vae")
    parser.add_argument("--architecture", choices=sorted(ARCHITECTURES), default="conv")
    parser.add_argument("--dataset", default="dsprites_procedural")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--compile", action="store_true", help="dtl_train's loop with training_runtime.compile")
    args = parser.parse_args(argv)
    allocator.keep_freed_memory()  # as every dtl_* command does at start
    if args.threads:
        torch.set_num_threads(args.threads)

    model, optimizers, dataset, device = build(args)
    random_state = np.random.RandomState(0)
    factors, observations = train.model_batch(model, dataset, args.batch_size, random_state, device)
    real, bare, checkpoint_seconds = [], [], []
    with tempfile.TemporaryDirectory() as model_dir:
        warmup_start = time.perf_counter()
        with train.compiled_model_fn(model, args.compile):
            _, step, _ = time_real_loop(model, optimizers, dataset, random_state, args, device, model_dir, 0,
                                        args.warmup)
        warmup_seconds = time.perf_counter() - warmup_start
        time_bare_loop(model, optimizers, factors, observations, device, step, args.warmup)
        for round_index in range(args.rounds):
            # Alternate which loop goes first, so that drift of the machine's speed favours neither.
            if round_index % 2:
                bare.append(time_bare_loop(model, optimizers, factors, observations, device, step, args.steps))
            with train.compiled_model_fn(model, args.compile):
                speed, step, seconds = time_real_loop(model, optimizers, dataset, random_state, args, device,
                                                      model_dir, step, args.steps)
            real.append(speed)
            checkpoint_seconds.append(seconds)
            if not round_index % 2:
                bare.append(time_bare_loop(model, optimizers, factors, observations, device, step, args.steps))
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("model={} architecture={} dataset={} batch_size={} device={} threads={} steps={}x{} rounds "
          "compile={}".format(args.model, args.architecture, args.dataset, args.batch_size, device,
                              torch.get_num_threads(), args.steps, args.rounds, args.compile))
    print("dtl_train loop : {:8.2f} iterations/s  {:9.1f} images/s  (rounds: {})".format(
        max(real), max(real) * args.batch_size * IMAGES_PER_EXAMPLE.get(args.model, 1), ", ".join("{:.2f}".format(s) for s in real)))
    print("bare loop      : {:8.2f} iterations/s  {:9.1f} images/s  (rounds: {})".format(
        max(bare), max(bare) * args.batch_size * IMAGES_PER_EXAMPLE.get(args.model, 1), ", ".join("{:.2f}".format(s) for s in bare)))
    print("ratio dtl_train/bare: median of the rounds' ratios {:.3f} (target >= 0.95); best rounds {:.3f}".format(
        float(np.median(np.array(real) / np.array(bare))), max(real) / max(bare)))
    print("checkpoint write: {:.3f} s (median; excluded above)".format(float(np.median(checkpoint_seconds))))
    if args.compile:
        extra = warmup_seconds - args.warmup / max(real)
        print("compile: warm-up of {} iterations took {:.1f} s, about {:.1f} s more than at the compiled rate; "
              "amortised over a 300,000-step run: {:.4f} % of its time".format(
                  args.warmup, warmup_seconds, extra, 100 * extra / (extra + 300000 / max(real))))
    print("peak RSS: {:.0f} MiB".format(peak_rss_mib))
    return 0


if __name__ == "__main__":
    sys.exit(main())
