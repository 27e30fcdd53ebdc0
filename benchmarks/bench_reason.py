"""Speed of dtl_reason: PGM batch generation against one WReN training step, and the stage's training loop
against a bare PyTorch loop of the same network.

    python benchmarks/bench_reason.py [--embedding=values|onehot|cnn] [--batch_size=32] [--steps=20] [--rounds=3]
                                      [--pgm_type=easy_mixed] [--device=auto] [--num_workers=N] [--threads=N]

- generation: `PGMDataset.sample_batch` in this process (PGM factors, and the images when the embedding needs
  them), ms per batch, and as a fraction of one training step (target < 10 %);
- the stage's loop: `reason.train_iteration` as dtl_reason runs it (batches made in this process on the CPU, or
  ahead of time by `reasoning_runtime.num_workers` worker processes with a GPU; signal checks, reports, the
  scalars file) against a bare loop (one pre-made batch on the device; forward, loss, backward, step), in
  alternating rounds on one network: steps/s of both and the median of the rounds' ratios (target >= 0.95);
- the reference's literal WReN (all 81 concatenated pairs through the first edge layer) for comparison.
The network is the study's: edge MLP [512] x 4, graph MLP [256, 256], dropout 0.5, TF's default Adam.
"""
import argparse
import statistics
import tempfile
import time

import gin
import torch
import torch.nn.functional as F

from dlib_torch.evaluation.abstract_reasoning import models
from dlib_torch.evaluation.abstract_reasoning import pgm_data
from dlib_torch.evaluation.abstract_reasoning import reason
from dlib_torch.evaluation.abstract_reasoning import relational_layers
from dlib_torch.training import loop
from dlib_torch.training import training_log

EMBEDDINGS = {"values": "'values'", "onehot": "'onehot'", "cnn": "@BaselineCNNEmbedder"}


def build(args):
    gin.clear_config()
    gin.parse_config([
        "dataset.name = '{}'".format(args.dataset), "pgm.pgm_type = '{}'".format(args.pgm_type),
        "TwoStageModel.embedding_model_class = {}".format(EMBEDDINGS[args.embedding]),
        "TwoStageModel.reasoning_model_class = @OptimizedWildRelNet", "BaselineCNNEmbedder.num_latent = 10",
        "OptimizedWildRelNet.edge_mlp = [512, 512, 512, 512]", "OptimizedWildRelNet.graph_mlp = [256, 256]",
        "OptimizedWildRelNet.dropout_in_last_graph_layer = 0.5",
        "reasoning_runtime.device = '{}'".format(args.device), "reasoning_runtime.log_every_steps = 100",
        "reasoning_runtime.checkpoint_every_minutes = 1e9"]
        + (["reasoning_runtime.num_workers = {}".format(args.num_workers)] if args.num_workers is not None else []))
    pgm_dataset = pgm_data.get_pgm_dataset()
    runtime = reason.reasoning_runtime()
    model = models.TwoStageModel()
    torch.manual_seed(0)
    data = pgm_dataset.ground_truth_data
    network = model.build(data.factors_num_values, data.observation_shape).to(runtime.device)
    return pgm_dataset, model, network, model.make_optimizer(network), runtime


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_loop(network, optimizer, batch, steps, device):
    """Forward, loss, backward and step on one pre-made batch on the device."""
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        loss = F.cross_entropy(network(batch), batch["labels"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    synchronize(device)
    return steps / (time.perf_counter() - start)


def stage_loop(network, optimizer, data, runtime, steps, round_index):
    """`reason.train_iteration` over `steps` fresh batches, as dtl_reason runs it."""
    with tempfile.TemporaryDirectory() as log_dir:
        log = training_log.TrainingLog(log_dir, steps, 0, use_bar=False)
        schedule = loop.Schedule(None, runtime.checkpoint_every_minutes, runtime.log_every_steps)
        synchronize(runtime.device)
        start = time.perf_counter()
        reason.train_iteration(network, optimizer, data, 1000 + round_index, 0, 0, steps, schedule, log,
                               lambda step: None)
        synchronize(runtime.device)
        elapsed = time.perf_counter() - start
        log.close()
    return steps / elapsed


def literal_wren_rate(network, batch, steps, device):
    """Forward and backward of the reference's layer order (81 concatenated pairs into the first edge layer)."""
    wren = network.reasoning_model
    context, answers = network.embedder(batch)

    def forward():
        nodes = relational_layers.add_positional_encoding(relational_layers.stack_answers(context, answers))
        x = relational_layers.pairwise_edge_embeddings(nodes)
        for layer in wren.edge_layers:
            x = F.relu(layer(x))
        x = x.sum(dim=(-3, -2))
        for layer in wren.graph_layers:
            x = F.relu(layer(x))
        return wren.output_layer(x).squeeze(-1)

    def ours():
        return wren(context, answers)

    rates = {}
    for name, fn in (("literal", forward), ("decomposed", ours)):
        synchronize(device)
        start = time.perf_counter()
        for _ in range(steps):
            network.zero_grad(set_to_none=True)
            F.cross_entropy(fn(), batch["labels"]).backward(retain_graph=True)
        synchronize(device)
        rates[name] = steps / (time.perf_counter() - start)
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedding", default="values", choices=sorted(EMBEDDINGS))
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--generation_batches", type=int, default=20)
    parser.add_argument("--pgm_type", default="easy_mixed")
    parser.add_argument("--dataset", default="abstract_dsprites_procedural")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--num_workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    pgm_dataset, model, network, optimizer, runtime = build(args)
    device = runtime.device
    print("device {}, {} torch threads, embedding {}, batch {}, {} PGMs, {} batch workers".format(
        device, torch.get_num_threads(), args.embedding, args.batch_size, args.pgm_type, runtime.num_workers))

    start = time.perf_counter()
    for k in range(args.generation_batches):
        pgm_dataset.sample_batch(args.batch_size, [7, k], model.needs_images)
    generation_ms = 1e3 * (time.perf_counter() - start) / args.generation_batches

    data = reason.PGMBatches(pgm_dataset, args.batch_size, model.needs_images, device, runtime.num_workers)
    batch = next(data.batches(3, 0, 1))
    bare_loop(network, optimizer, batch, args.warmup, device)
    stage_loop(network, optimizer, data, runtime, args.warmup, -1)
    bare, stage = [], []
    for r in range(args.rounds):
        bare.append(bare_loop(network, optimizer, batch, args.steps, device))
        stage.append(stage_loop(network, optimizer, data, runtime, args.steps, r))
    step_ms = 1e3 / max(bare)
    print("PGM batch generation (this process): {:.1f} ms = {:.1f} % of a training step ({:.1f} ms); "
          "target < 10 %".format(generation_ms, 100 * generation_ms / step_ms, step_ms))
    print("bare loop: {:.2f} steps/s (rounds {})".format(max(bare), ", ".join("{:.2f}".format(v) for v in bare)))
    print("dtl_reason loop: {:.2f} steps/s (rounds {})".format(max(stage),
                                                              ", ".join("{:.2f}".format(v) for v in stage)))
    print("ratio dtl_reason / bare: median of rounds {:.3f}, best rounds {:.3f}; target >= 0.95".format(
        statistics.median(s / b for s, b in zip(stage, bare)), max(stage) / max(bare)))
    rates = literal_wren_rate(network, batch, max(args.steps // 2, 2), device)
    print("WReN forward+backward: decomposed first edge layer {:.2f}/s, reference's literal pairs {:.2f}/s "
          "({:.2f}x)".format(rates["decomposed"], rates["literal"], rates["decomposed"] / rates["literal"]))


if __name__ == "__main__":
    main()
