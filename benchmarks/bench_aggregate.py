"""Time `aggregate_results_to_json` on a synthetic sweep of 100,000 evaluation records (target < 60 s).

Writes, in a temporary folder, the tree dtl_reproduce writes (output/<study>/<model_num>/metrics/<post>/
<metric>/results/aggregate/evaluation.json) with records of a real record's size and keys, a few of them
unreadable, then aggregates it and loads the result.

    python benchmarks/bench_aggregate.py [--num_records=100000] [--keep]
"""
import argparse
import os
import resource
import shutil
import tempfile
import time

import numpy as np
import simplejson as json

from dlib_torch.utils import aggregate_results

METRICS = ["beta_vae_sklearn", "dci", "downstream_task_boosted_trees", "downstream_task_logistic_regression",
           "factor_vae_metric", "mig", "modularity_explicitness", "sap_score", "unsupervised"]
POSTPROCESS = ["mean", "sampled"]


def train_config(model_num, rng):
    """The flattened operative train.gin of a reference model (values as gin prints them)."""
    config = {
        "vae/AdamOptimizer.beta1": "0.9", "vae/AdamOptimizer.beta2": "0.999",
        "vae/AdamOptimizer.epsilon": "1e-08", "vae/AdamOptimizer.learning_rate": "0.0001",
        "vae/AdamOptimizer.name": "'Adam'", "vae/AdamOptimizer.use_locking": "False", "bernoulli_loss.subtract_true_image_entropy": "False",
        "conv_encoder.num_latent": "10", "dataset.name": "'dsprites_full'", "decoder.decoder_fn":
        "@deconv_decoder", "deconv_decoder.output_shape": "[64, 64, 1]", "encoder.encoder_fn": "@conv_encoder",
        "encoder.num_latent": "10", "model.batch_size": "64", "model.eval_steps": "1000",
        "model.model": "@vae()", "model.model_num": str(model_num), "model.name": "'beta_vae'",
        "model.random_seed": str(model_num % 50), "model.training_steps": "300000",
        "reconstruction_loss.activation": "'logits'", "reconstruction_loss.loss_fn": "@bernoulli_loss",
        "vae.beta": str(float(rng.choice([1, 2, 4, 6, 8, 16]))), "vae_optimizer.learning_rate": "None",
        "vae_optimizer.optimizer_fn": "@vae/AdamOptimizer",
    }
    return config


def record(model_num, post, metric, rng):
    """A namespaced evaluation record like results/aggregate/evaluation.json."""
    train_results = {"elbo": -float(rng.uniform(20, 200)), "global_step": 300000, "kl_loss": rng.uniform(10, 30),
                     "loss": rng.uniform(20, 200), "reconstruction_loss": rng.uniform(10, 170),
                     "regularizer": rng.uniform(10, 30), "elapsed_time": rng.uniform(3e4, 9e4),
                     "uuid": "6f1c2a0e-8e55-4b0c-9bd8-{:012x}".format(model_num)}
    postprocess_config = {"dataset.name": "'auto'", "postprocess.name": "'{}'".format(post),
                          "postprocess.postprocess_fn": "@{}_representation".format(post),
                          "postprocess.random_seed": "2357136044"}
    postprocess_results = {"elapsed_time": rng.uniform(1, 10), "uuid": "3b9e1d7c-2f44-4a31-8c55-0123456789ab"}
    evaluation_config = {"dataset.name": "'auto'", "evaluation.evaluation_fn": "@{}".format(metric),
                         "evaluation.name": "'{}'".format(metric), "evaluation.random_seed": "3071714933",
                         "{}.num_train".format(metric): "10000", "{}.num_test".format(metric): "5000",
                         "{}.batch_size".format(metric): "16", "discretizer.discretizer_fn":
                         "@histogram_discretizer", "discretizer.num_bins": "20"}
    evaluation_results = {"elapsed_time": rng.uniform(10, 600), "uuid": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}
    # Metrics return from 2 scores (mig) to about 50 (downstream tasks: per training size and factor).
    num_scores = 48 if metric.startswith("downstream") else 6
    evaluation_results.update({"{}_{}".format(metric, i): float(rng.uniform()) for i in range(num_scores)})
    out = {}
    for name, values in [("evaluation_config", evaluation_config), ("evaluation_results", evaluation_results),
                         ("postprocess_config", postprocess_config), ("postprocess_results", postprocess_results),
                         ("train_config", train_config(model_num, rng)), ("train_results", train_results)]:
        out.update({"{}.{}".format(name, k): v for k, v in values.items()})
    return out


def write_tree(root, num_records, num_unreadable):
    """Writes num_records records (the last num_unreadable of them truncated); returns bytes written."""
    rng = np.random.RandomState(0)
    per_model = len(POSTPROCESS) * len(METRICS)
    total = 0
    for i in range(num_records):
        model_num, rest = divmod(i, per_model)
        post, metric = POSTPROCESS[rest // len(METRICS)], METRICS[rest % len(METRICS)]
        directory = os.path.join(root, "output", "unsupervised_study_v1", str(model_num), "metrics", post, metric,
                                 "results", "aggregate")
        os.makedirs(directory, exist_ok=True)
        text = json.dumps(record(model_num, post, metric, rng), indent=2)
        if i >= num_records - num_unreadable:
            text = text[:len(text) // 2]  # a record cut short, as if being written without atomic rename
        with open(os.path.join(directory, "evaluation.json"), "w") as f:
            f.write(text)
        total += len(text)
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num_records", type=int, default=100000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary tree")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="bench_aggregate_")
    try:
        start = time.time()
        num_bytes = write_tree(root, args.num_records, num_unreadable=10)
        print("wrote {} records ({:.0f} MB, {:.1f} KB and {}-{} keys each) in {:.1f} s".format(
            args.num_records, num_bytes / 1e6, num_bytes / args.num_records / 1e3,
            len(record(0, "mean", "mig", np.random.RandomState(0))),
            len(record(0, "mean", "downstream_task_boosted_trees", np.random.RandomState(0))), time.time() - start))
        pattern = os.path.join(root, "output", "*", "*", "metrics", "*", "*", "results", "aggregate",
                               "evaluation.json")
        output_path = os.path.join(root, "results.json")
        start = time.time()
        summary = aggregate_results.aggregate_results_to_json(pattern, output_path)
        aggregate_seconds = time.time() - start
        start = time.time()
        frame = aggregate_results.load_aggregated_json_results(output_path)
        load_seconds = time.time() - start
        print("aggregated {} records ({} skipped) into {:.0f} MB in {:.1f} s (target < 60 s on 2 cores)".format(
            summary.num_records, summary.num_skipped, os.path.getsize(output_path) / 1e6, aggregate_seconds))
        print("loaded the DataFrame {} in {:.1f} s".format(frame.shape, load_seconds))
        print("peak RSS of this process: {:.0f} MB".format(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    finally:
        if args.keep:
            print("tree kept in", root)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
