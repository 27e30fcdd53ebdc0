"""Speed of the study's evaluation protocol: dlib_torch (code cache + our metrics) against disentanglement_lib.

    python benchmarks/bench_evaluate.py [--scale=1.0] [--metrics=mig,dci,...] [--reference_dir=DIR] [--device=cpu]
                                        [--mode=parity|fast]

On the same inputs (procedural dSprites, 737,280 images, and an untrained `conv_encoder` with 10 latents
made by the real dtl_train with one training step (`model.training_steps = 1`, the least it takes) and a fixed
seed, postprocessed to the mean and the sampled representation by dtl_postprocess), it runs the study's 9 metric configurations for both
representations, with the study's evaluation seeds, then the metrics beyond the protocol (`unified_scores`, the
reference's too; `dci_es` and `infomec`, ours only), each with seed 0 (unified_scores' GBT importances differ
from the reference's unseeded trees by more than DCI's scores do: its per-code keys and precision areas magnify
them; tests/evaluation/metrics/test_unified_scores.py shows equality with seeded trees):
  * ours: `evaluate_with_gin` for each, in one process, as dtl_reproduce does (codes cached per observation,
    parallel fits), with `sklearn_defaults.version = 'installed'` so both sides use the same estimators;
  * the reference: disentanglement_lib 1.5's metric functions (installed with `pip install --no-deps` into
    --reference_dir, `gin` replaced by a stand-in), on the real images, encoded by the same TorchScript module
    whenever the metric asks (the reference's own behaviour; the sampled noise drawn by torch).
It prints each metric's time on both sides and the largest difference between their values: "equal" within
1e-6, "close" within 0.05 (expected where the two sides draw different randomness: the sampled noise, and the
reference's unseeded gradient-boosted trees), else "DIFFER". Then the totals, their ratio (target >= 3), and
the floor: the time to render and encode once every distinct observation our run encoded, and that encoding's
images/s. `--device` (cpu, cuda, auto) is our side's `evaluation_runtime.device`: where the cache encodes (and
where the encoder is trained for its one step); the reference side always encodes on the CPU.
`--mode=fast` runs our side in the fast evaluation mode (`evaluation_runtime.mode = 'fast'`; target: the
protocol's total >= 15x the reference's), then in parity mode on the same inputs, and prints per metric both
times and the largest |fast - parity| of each kind of score.
`--model_dir=DIR` evaluates a trained model on dsprites_procedural (e.g. quickstart's output/quickstart/0/model)
instead of the untrained encoder; `--skip_reference` runs our side only (with --mode=fast: the deviations).
`--scale` multiplies every sample size (num_train, num_eval, num_test, num_variance_estimate) for a quick run;
the full protocol (--scale=1) takes about 30 minutes on 2 cores, 25 of them in the reference.
"""
import argparse
import json
import os
import tempfile
import time
import warnings

import numpy as np
import torch

from dlib_torch.data.ground_truth import dsprites_procedural
from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.evaluation import code_cache
from dlib_torch.evaluation import evaluate
from dlib_torch.methods.unsupervised import train
from dlib_torch.postprocessing import postprocess
from dlib_torch.utils import allocator
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import exported_modules
from dlib_torch.utils import reference_lib
from gpu_utilisation import GpuUtilisation  # benchmarks/gpu_utilisation.py, beside this script

DISCRETIZER = {"discretizer.discretizer_fn": "@histogram_discretizer", "discretizer.num_bins": 20}
# The study's metric configurations (configs/studies/unsupervised_study_v1/metric_configs, the reference's
# §3.2): config name -> (gin name, reference function, parameters, other bindings).
METRICS = {
    "beta_vae_sklearn": ("beta_vae_sklearn", "beta_vae.compute_beta_vae_sklearn",
                         {"batch_size": 64, "num_train": 10000, "num_eval": 5000}, {}),
    "dci": ("dci", "dci.compute_dci", {"num_train": 10000, "num_test": 5000}, {}),
    "downstream_task_boosted_trees": ("downstream_task", "downstream_task.compute_downstream_task",
                                      {"num_train": [10, 100, 1000, 10000], "num_test": 5000},
                                      {"predictor.predictor_fn": "@gradient_boosting_classifier"}),
    "downstream_task_logistic_regression": ("downstream_task", "downstream_task.compute_downstream_task",
                                            {"num_train": [10, 100, 1000, 10000], "num_test": 5000},
                                            {"predictor.predictor_fn": "@logistic_regression_cv"}),
    "factor_vae_metric": ("factor_vae_score", "factor_vae.compute_factor_vae",
                          {"num_variance_estimate": 10000, "num_train": 10000, "num_eval": 5000, "batch_size": 64},
                          {"prune_dims.threshold": 0.05}),
    "mig": ("mig", "mig.compute_mig", {"num_train": 10000}, DISCRETIZER),
    "modularity_explicitness": ("modularity_explicitness", "modularity_explicitness.compute_modularity_explicitness",
                                {"num_train": 10000, "num_test": 5000}, DISCRETIZER),
    "sap_score": ("sap_score", "sap_score.compute_sap",
                  {"num_train": 10000, "num_test": 5000, "continuous_factors": False}, {}),
    "unsupervised": ("unsupervised_metrics", "unsupervised_metrics.unsupervised_metrics", {"num_train": 10000},
                     DISCRETIZER),
}
# Metrics beyond the study's protocol (the reference function where one exists, else None), each evaluated with
# seed 0 on the mean and the sampled representation; listed in the table after the protocol, not in its totals.
MATRIX_FNS = "[@importance_gbt_matrix, @mutual_information_matrix, @accuracy_svm_matrix]"
EXTRA_METRICS = {
    "unified_scores": ("unified_scores", "unified_scores.compute_unified_scores",
                       {"num_train": 10000, "num_test": 5000, "matrix_fns": MATRIX_FNS}, DISCRETIZER),
    "dci_es": ("dci_es", None, {"num_train": 10000, "num_test": 5000, "num_trees": 100}, {}),
    "infomec": ("infomec", None, {"num_train": 10000}, {}),
}
EXTRA_SEED = 0
SIZES = ("num_train", "num_eval", "num_test", "num_variance_estimate")
# Smallest scaled sample sizes: explicitness needs every value of a 40-valued factor among its test points.
MINIMUM_SIZE = {"modularity_explicitness": 500}
# The seeds dlib_reproduce draws for the 9 metrics of the mean, then of the sampled representation (§1).
SEEDS = {"mean": [3071714933, 3626093760, 2588848963, 3684848379, 2340255427, 3638918503, 1819583497, 2678185683,
                  2774094101],
         "sampled": [1650906866, 1879422756, 1277901399, 3830135878, 243580376, 4138900056, 1171049868, 1646868794,
                     2051556033]}


def scaled(metric, scale):
    """The metric's parameters with every sample size multiplied by `scale` (lists: each entry, distinct),
    and kept at least at MINIMUM_SIZE (default 10)."""
    result = dict(ALL_METRICS[metric][2])
    minimum = MINIMUM_SIZE.get(metric, 10)
    for name in SIZES:
        if name in result:
            value = result[name]
            if isinstance(value, list):
                result[name] = sorted({max(minimum, int(round(v * scale))) for v in value})
            else:
                result[name] = max(minimum, int(round(value * scale)))
    return result


ALL_METRICS = dict(METRICS, **EXTRA_METRICS)


def seed_of(representation, metric):
    """The study's seed of a protocol metric (dlib_reproduce's stream), EXTRA_SEED for the others."""
    if metric in METRICS:
        return SEEDS[representation][sorted(METRICS).index(metric)]
    return EXTRA_SEED


def gin_value(value):
    return value if isinstance(value, str) else repr(value)


def make_representations(work_dir, device, model_dir=None):
    """Trains one step (dtl_train refuses 0) to get a seeded conv encoder, unless `model_dir` names a trained
    model; postprocesses it to mean and sampled."""
    if model_dir is None:
        model_dir = os.path.join(work_dir, "model")
        train.train_with_gin(model_dir, False, [], [
            "training_runtime.device = '{}'".format(device), "dataset.name = 'dsprites_procedural'",
            "model.model = @vae()", "vae.beta = 1.", "encoder.encoder_fn = @conv_encoder",
            "decoder.decoder_fn = @deconv_decoder", "encoder.num_latent = 10",
            "reconstruction_loss.loss_fn = @bernoulli_loss", "vae_optimizer.optimizer_fn = @vae/AdamOptimizer",
            "model.batch_size = 64", "model.training_steps = 1", "model.eval_steps = 1", "model.random_seed = 0"])
    for name in ("mean", "sampled"):
        postprocess.postprocess_with_gin(model_dir, os.path.join(work_dir, "postprocessed", name), False, [], [
            "postprocess.postprocess_fn = @{}_representation".format(name), "dataset.name = 'auto'",
            "postprocess.random_seed = 0", "postprocess.name = '{}'".format(name)])


def run_ours(work_dir, metrics, scale, gbt_implementation, device, mode="parity", sklearn_version="installed"):
    """{(representation, metric): (seconds, scores)} from evaluate_with_gin, in one process."""
    code_cache.clear()
    outcome = {}
    for representation in ("mean", "sampled"):
        for metric in metrics:
            gin_name, _, _, other = ALL_METRICS[metric]
            bindings = ["evaluation.evaluation_fn = @{}".format(gin_name), "dataset.name = 'auto'",
                        "evaluation.random_seed = {}".format(seed_of(representation, metric)),
                        "evaluation.name = '{}'".format(metric),
                        "sklearn_defaults.version = '{}'".format(sklearn_version),
                        "gradient_boosting_classifier.implementation = '{}'".format(gbt_implementation),
                        "evaluation_runtime.device = '{}'".format(device),
                        "evaluation_runtime.mode = '{}'".format(mode)]
            bindings += ["{}.{} = {}".format(gin_name, key, gin_value(value))
                         for key, value in scaled(metric, scale).items()]
            bindings += ["{} = {}".format(key, gin_value(value)) for key, value in other.items()]
            output_dir = os.path.join(work_dir, "metrics", representation, metric)
            start = time.perf_counter()
            evaluate.evaluate_with_gin(os.path.join(work_dir, "postprocessed", representation), output_dir, True,
                                       [], bindings)
            seconds = time.perf_counter() - start
            with open(os.path.join(output_dir, "results", "json", "evaluation_results.json")) as f:
                scores = json.load(f)
            outcome[representation, metric] = (seconds, scores)
            print("  ours {:6s} {:8s} {:36s} {:8.1f} s".format(mode, representation, metric, seconds), flush=True)
    return outcome


def load_reference(reference_dir):
    """disentanglement_lib 1.5's metric modules (installed with pip --no-deps if needed) and their gin stand-in."""
    return reference_lib.load(reference_lib.install(reference_dir),
                              reference_lib.METRIC_MODULES + ("unified_scores",), picture_stand_ins=True)


def run_reference(reference, work_dir, metrics, scale):
    """{(representation, metric): (seconds, scores)} of the reference's metric code, encoding directly."""
    data = dsprites_procedural.ProceduralDSprites()
    utils = reference.utils
    named = {"@histogram_discretizer": utils._histogram_discretize,  # pylint: disable=protected-access
             "@gradient_boosting_classifier": utils.gradient_boosting_classifier,
             "@logistic_regression_cv": utils.logistic_regression_cv}
    outcome = {}
    for representation in ("mean", "sampled"):
        module = exported_modules.load(exported_modules.exported_path(
            os.path.join(work_dir, "postprocessed", representation), exported_modules.REPRESENTATION))
        representation_function = exported_modules.numpy_function(module)
        for metric in metrics:
            _, function_name, parameters, other = ALL_METRICS[metric]
            if function_name is None:  # no reference implementation
                continue
            reference.gin.bindings.clear()
            for key, value in other.items():
                scope, parameter = key.split(".")
                reference.gin.bindings.setdefault(scope, {})[parameter] = named.get(value, value)
            module_name, function = function_name.split(".")
            seed = seed_of(representation, metric)
            arguments = scaled(metric, scale)
            if "matrix_fns" in arguments:
                arguments["matrix_fns"] = [getattr(reference.unified_scores, name.strip(" @"))
                                           for name in arguments["matrix_fns"].strip("[]").split(",")]
            torch.manual_seed(seed)
            start = time.perf_counter()
            scores = getattr(getattr(reference, module_name), function)(
                data, representation_function, random_state=np.random.RandomState(seed), **arguments)
            seconds = time.perf_counter() - start
            outcome[representation, metric] = (seconds, scores)
            print("  reference  {:8s} {:36s} {:8.1f} s".format(representation, metric, seconds), flush=True)
    return outcome


def floor_seconds(work_dir, num_rows, device):
    """Seconds to render and encode `num_rows` distinct observations once, in the cache's large batches, on
    `device` (our side's evaluation_runtime.device)."""
    device = device_lib.select_device(device)
    module = exported_modules.load(exported_modules.exported_path(os.path.join(work_dir, "postprocessed", "mean"),
                                                                  exported_modules.REPRESENTATION), device)
    data = dsprites_procedural.ProceduralDSprites()
    runtime = evaluate.evaluation_runtime(device=str(device))
    cache = code_cache.CodeCache(data, code_cache.gaussian_encoder_function(module, device,
                                                                            runtime.encode_batch_size),
                                 runtime.encode_batch_size, fill_grid_fraction=None)
    rows = np.sort(np.random.RandomState(0).permutation(cache.num_rows)[:num_rows])
    start = time.perf_counter()
    cache.encode_rows(rows)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def encoding_rate(work_dir, num_images, device):
    """(images/s of rendering, images/s of encoding on `device`, the GPU's utilisation while encoding) for
    `num_images` distinct procedural images in the code cache's batches (evaluation_runtime.encode_batch_size),
    after one untimed warm-up batch."""
    device = device_lib.select_device(device)
    module = exported_modules.load(exported_modules.exported_path(os.path.join(work_dir, "postprocessed", "mean"),
                                                                  exported_modules.REPRESENTATION), device)
    data = dsprites_procedural.ProceduralDSprites()
    runtime = evaluate.evaluation_runtime(device=str(device))
    encode = code_cache.gaussian_encoder_function(module, device, runtime.encode_batch_size)
    random_state = np.random.RandomState(0)
    start = time.perf_counter()
    images = data.sample_observations_from_factors(data.sample_factors(num_images, random_state), random_state)
    render_seconds = time.perf_counter() - start
    encode(images[:runtime.encode_batch_size])
    with GpuUtilisation(device) as gpu:
        start = time.perf_counter()
        encode(images)  # returns numpy arrays: the device work has finished
        seconds = time.perf_counter() - start
    return num_images / render_seconds, num_images / seconds, gpu.text()


def agreement(ours, reference):
    """Largest absolute difference over the keys both report, and its verdict."""
    keys = [key for key in reference if key in ours and isinstance(reference[key], (int, float, np.number))]
    if not keys:
        return float("nan"), "no common keys"
    difference = max(abs(float(ours[key]) - float(reference[key])) for key in keys)
    return difference, "equal" if difference <= 1e-6 else "close" if difference <= 0.05 else "DIFFER"


def print_deviations(metrics, fast, parity):
    """Per metric: fast and parity seconds, and the largest |fast - parity| of each kind of score."""
    print("\nfast mode against parity mode (same inputs, same seeds):")
    print("{:36s} {:8s} {:>8s} {:>8s} {:>7s}  {}".format("metric", "repr.", "fast s", "parity s", "ratio",
                                                         "largest |fast - parity|"))
    for metric in metrics:
        for representation in ("mean", "sampled"):
            fast_seconds, fast_scores = fast[representation, metric]
            parity_seconds, parity_scores = parity[representation, metric]
            groups = {}
            for key, value in parity_scores.items():
                if key in ("elapsed_time", "uuid") or not isinstance(value, (int, float)):
                    continue
                group = ("train accuracies" if "train_accuracy" in key else
                         "test accuracies" if "test_accuracy" in key else key)
                groups[group] = max(groups.get(group, 0.), abs(float(fast_scores[key]) - float(value)))
            print("{:36s} {:8s} {:8.1f} {:8.1f} {:7.2f}  {}".format(
                metric, representation, fast_seconds, parity_seconds, parity_seconds / fast_seconds,
                ", ".join("{} {:.3f}".format(k, v) for k, v in sorted(groups.items()))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="factor on every sample size (quick run: 0.02)")
    parser.add_argument("--metrics", default=",".join(sorted(METRICS) + sorted(EXTRA_METRICS)),
                        help="comma-separated metric configs (the protocol's, then {})".format(
                            ", ".join(sorted(EXTRA_METRICS))))
    parser.add_argument("--reference_dir", default=os.path.join(tempfile.gettempdir(), "disentanglement_lib_1_5"),
                        help="where disentanglement_lib 1.5 is (or gets) installed with pip --no-deps")
    parser.add_argument("--gbt_implementation", default="dlib_torch", choices=["dlib_torch", "sklearn"],
                        help="our side's gradient_boosting_classifier.implementation")
    parser.add_argument("--mode", default="parity", choices=["parity", "fast"],
                        help="our side's evaluation_runtime.mode; 'fast' also runs parity mode, for the deviations")
    parser.add_argument("--sklearn_defaults", default="installed", choices=["installed", "0.20"],
                        help="our side's sklearn_defaults.version (the reference runs under the installed one)")
    parser.add_argument("--model_dir", default=None,
                        help="a trained model on dsprites_procedural (e.g. output/quickstart/0/model) to evaluate "
                             "instead of the untrained encoder")
    parser.add_argument("--skip_reference", action="store_true",
                        help="run our side only (no ratios to the reference; with --mode=fast, the deviations)")
    parser.add_argument("--device", default="cpu", help="our side's evaluation_runtime.device: cpu, cuda or auto")
    parser.add_argument("--encode_images", type=int, default=8192,
                        help="distinct images whose encoding rate is measured on --device")
    args = parser.parse_args()
    allocator.keep_freed_memory()  # as dtl_evaluate does at start; both sides run in this process
    os.environ["PYTHONWARNINGS"] = "ignore"  # scikit-learn's convergence warnings, also in worker processes
    warnings.simplefilter("ignore")
    metrics = [name.strip() for name in args.metrics.split(",") if name.strip()]
    unknown = sorted(set(metrics) - set(ALL_METRICS))
    if unknown:
        parser.error("unknown metric configs {}; choose among {}".format(unknown, sorted(ALL_METRICS)))

    reference = None if args.skip_reference else load_reference(args.reference_dir)
    with tempfile.TemporaryDirectory() as work_dir:
        device = device_lib.select_device(args.device)
        print("Inputs: dsprites_procedural ({} images), {}; scale {}; "
              "torch threads {}, {} CPUs; our boosted trees: {}; our device: {}; our mode: {}".format(
                  ground_truth_data.factor_grid_size(dsprites_procedural.ProceduralDSprites()),
                  args.model_dir or "untrained conv_encoder (seed 0, 10 latents)", args.scale,
                  torch.get_num_threads(), os.cpu_count(), args.gbt_implementation,
                  "{} ({})".format(device, torch.cuda.get_device_name(device)) if device.type == "cuda" else device,
                  args.mode))
        make_representations(work_dir, device, args.model_dir)
        ours = run_ours(work_dir, metrics, args.scale, args.gbt_implementation, device, args.mode,
                        args.sklearn_defaults)
        (statistics,) = code_cache.cache_statistics()
        parity = None
        if args.mode == "fast":
            parity = run_ours(work_dir, metrics, args.scale, args.gbt_implementation, device, "parity",
                              args.sklearn_defaults)
        theirs = {} if reference is None else run_reference(reference, work_dir, metrics, args.scale)
        floor = floor_seconds(work_dir, statistics["rows_encoded"], device)
        render_rate, encode_rate, utilisation = encoding_rate(work_dir, args.encode_images, device)

    print("\n{:36s} {:>9s} {:>10s} {:>7s} | {:>9s} {:>10s} {:>7s} | {}".format(
        "metric", "ours mean", "ref mean", "ratio", "ours smp", "ref smp", "ratio", "values (mean; sampled)"))
    for metric in metrics:
        row, verdicts = [], []
        for representation in ("mean", "sampled"):
            our_seconds, our_scores = ours[representation, metric]
            if (representation, metric) not in theirs:
                row += ["{:9.1f}".format(our_seconds), "{:>10s}".format("-"), "{:>7s}".format("-")]
                verdicts.append("no reference")
                continue
            their_seconds, their_scores = theirs[representation, metric]
            row += ["{:9.1f}".format(our_seconds), "{:10.1f}".format(their_seconds),
                    "{:7.2f}".format(their_seconds / our_seconds)]
            difference, verdict = agreement(our_scores, their_scores)
            verdicts.append("{} (max |diff| {:.2g})".format(verdict, difference))
        print("{:36s} {} {} {} | {} {} {} | {}".format(metric, *row, "; ".join(verdicts)))
    if parity is not None:
        print_deviations(metrics, ours, parity)
    print("encoding {} images on {}: {:.0f} images/s (encode_batch_size {}; GPU utilisation {}); rendering them "
          "on the CPU: {:.0f} images/s".format(args.encode_images, device, encode_rate, evaluate.evaluation_runtime(
              device=str(device)).encode_batch_size, utilisation, render_rate))
    # The totals and their ratio cover the study's protocol only.
    if not any(metric in METRICS for metric in metrics) or not theirs:
        return
    our_total = sum(seconds for (_, metric), (seconds, _) in ours.items() if metric in METRICS)
    their_total = sum(seconds for (_, metric), (seconds, _) in theirs.items() if metric in METRICS)
    print("\ntotal: ours ({} mode) {:.1f} s, reference {:.1f} s, reference / ours = {:.2f} (target >= {})".format(
        args.mode, our_total, their_total, their_total / our_total, 15 if args.mode == "fast" else 3))
    if parity is not None:
        parity_total = sum(seconds for (_, metric), (seconds, _) in parity.items() if metric in METRICS)
        print("parity mode in the same run: {:.1f} s, reference / parity = {:.2f}; parity / fast = {:.2f}".format(
            parity_total, their_total / parity_total, parity_total / our_total))
    print("code cache: {rows_encoded} distinct observations encoded in {encoder_calls} encoder calls for "
          "{rows_looked_up} codes looked up".format(**statistics))
    print("floor: encoding those {} observations once takes {:.1f} s ({:.0f} % of our total); the whole grid would "
          "take about {:.0f} s".format(statistics["rows_encoded"], floor, 100 * floor / our_total,
                                       floor / max(1, statistics["rows_encoded"]) * statistics["rows"]))


if __name__ == "__main__":
    main()
