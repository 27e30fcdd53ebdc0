"""Benchmark of the composition task's data: ms per batch of 64 triplets (factors drawn, three images rendered)
against one training step of the Composer that consumes them, measured in the same run.

Split by split on procedural dSprites (the paper's three conditions): the factor sampling alone, the whole
batch (`Composer.sample_batch`: factors + reference, command and target images), and one optimisation step of
the Composer (conv encoder/decoder, linear mixer, batch 64, Adam) on a fixed batch. Target: the batch under
10% of the step. Also the held-out triplets the metric draws (3,000 at once).

Run: python benchmarks/bench_triplets.py [--repeats=200] [--threads=2]
"""
import argparse
import time

import numpy as np


def timed(function, repeats):
    """Median seconds of `repeats` calls (after one warm-up call)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--step_repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import gin
    import torch
    from dlib_torch.data.ground_truth import dsprites_procedural
    from dlib_torch.data.ground_truth import splits
    from dlib_torch.data.ground_truth import triplets
    from dlib_torch.methods.unsupervised import composer
    from dlib_torch.training import trainer

    torch.set_num_threads(args.threads)
    gin.parse_config(["encoder.num_latent = 10", "encoder.encoder_fn = @conv_encoder",
                      "decoder.decoder_fn = @deconv_decoder", "reconstruction_loss.loss_fn = @bernoulli_loss",
                      "vae_optimizer.optimizer_fn = @AdamOptimizer", "AdamOptimizer.learning_rate = 0.0001"])
    data = dsprites_procedural.ProceduralDSprites()
    torch.manual_seed(0)
    model = composer.Composer().build(data.observation_shape, data.factors_num_values)
    optimizers = model.make_optimizers()
    random_state = np.random.RandomState(0)
    factors, observations = model.sample_batch(data, 64, random_state, "cpu")
    step = timed(lambda: trainer.optimization_step(model, optimizers, observations, factors, 0), args.step_repeats)
    print("composer training step (batch 64, conv, linear mixer, {} threads): {:.1f} ms".format(
        args.threads, 1e3 * step))
    print("{:<12} {:>14} {:>14} {:>10} {:>22}".format("split", "factors ms", "batch ms", "of a step",
                                                      "3,000 held-out ms"))
    for split in ("blank_side", "shape2tx", "leave1out"):
        train_side, _ = splits.held_out_split(data, split)
        sampler = triplets.TripletSampler.from_split(data, split)
        factor_time = timed(lambda: sampler.training_triplets(64, random_state), args.repeats)
        batch_time = timed(lambda: model.sample_batch(train_side, 64, random_state, "cpu"), args.repeats)
        held_out_time = timed(lambda: sampler.held_out_triplets(3000, random_state, "any"), 5)
        print("{:<12} {:>14.2f} {:>14.2f} {:>9.1f}% {:>22.1f}".format(
            split, 1e3 * factor_time, 1e3 * batch_time, 100 * batch_time / step, 1e3 * held_out_time))


if __name__ == "__main__":
    main()
