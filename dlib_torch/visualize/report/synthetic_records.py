"""Synthetic aggregated records shaped like a study's (for dtl_report's tests and benchmark, no training).

Each record has the keys a real `results/aggregate/evaluation.json` (or `abstract_reasoning.json`) of that
study has: `train_config.*` from the study's model gin file and sweep, written as gin prints it, `train_results.*`,
`postprocess_config.*`, `postprocess_results.*`, `evaluation_config.*` and the metric's real result keys
with invented values (a hidden per-model quality plus noise, so that metrics correlate), and `path` in
dtl_reproduce's layout.
"""
import os
import uuid

import numpy as np
import pandas as pd

from dlib_torch.config import hyperparams
from dlib_torch.config import reproduce
from dlib_torch.utils import results

# metric config name -> evaluation function, for the shipped studies' metric files.
METRIC_FUNCTIONS = {"beta_vae_sklearn": "beta_vae_sklearn", "factor_vae_metric": "factor_vae_score",
                    "mig": "mig", "dci": "dci", "sap_score": "sap_score",
                    "modularity_explicitness": "modularity_explicitness", "unsupervised": "unsupervised_metrics",
                    "downstream_task_logistic_regression": "downstream_task",
                    "downstream_task_boosted_trees": "downstream_task", "fairness": "fairness",
                    "held_out_reconstruction": "held_out_reconstruction",
                    "composition_reconstruction": "composition_reconstruction", "dci_es": "dci_es",
                    "infomec": "infomec", "udr": "udr_sklearn"}
NUM_FACTORS = 5
DOWNSTREAM_SIZES = (10, 100, 1000, 10000)
# Bernoulli NLL floors (nats per image) and held-out gaps of the generalisation conditions, roughly the paper's.
NLL_FLOOR = {"dsprites_full": 25.0, "shapes3d": 3480.0, "mpi3d_real": 900.0}
NLL_GAP = {"interpolation": 0.1, "recombination_to_element": 0.05, "recombination_to_range": 3.0,
           "extrapolation": 60.0}


def study_records(study_name, model_nums, metrics=None, representations=None, random_seed=0,
                  output_root="output"):
    """Evaluation records of `model_nums` of a study, for every representation and metric (default: the
    study's postprocessing and metric configs)."""
    study = reproduce.get_study(study_name)
    metrics = metrics or [_stem(p) for p in study.get_eval_config_files()]
    representations = representations or [_stem(p) for p in study.get_postprocess_config_files()]
    rng = np.random.RandomState(random_seed)
    records = []
    for model_num in model_nums:
        config = study.get_config(model_num)
        base = _model_keys(study, model_num, config, rng)
        quality = _quality(config, rng)
        for representation in representations:
            post = _postprocess_keys(study.name, model_num, representation, rng, output_root)
            for metric in metrics:
                record = dict(base)
                record.update(post)
                record.update(_evaluation_keys(metric, config, quality, representation, rng))
                record["path"] = os.path.join(output_root, study.name, str(model_num), "metrics", representation,
                                              metric, "results", "aggregate", "evaluation.json")
                records.append(record)
    return records


def abstract_reasoning_records(study_name, model_nums, steps=(1000, 2000, 5000, 10000), random_seed=0,
                               output_root="output"):
    """Records of step `abstract_reasoning` (one per model, on the mean representation)."""
    study = reproduce.get_study(study_name)
    rng = np.random.RandomState(random_seed)
    records = []
    for model_num in model_nums:
        config = study.get_config(model_num)
        record = _model_keys(study, model_num, config, rng)
        record.update(_postprocess_keys(study.name, model_num, "mean", rng, output_root))
        quality = _quality(config, rng)
        final = 0.35 + 0.5 * _sigmoid(quality + rng.normal(0, 0.3))
        accuracies = {}
        for step in steps:
            progress = 1 - np.exp(-3.0 * step / steps[-1])
            for split in ("val", "test"):
                value = 1 / 8 + (final - 1 / 8) * progress + rng.normal(0, 0.01) - (0.02 if split == "test" else 0)
                accuracies["step{}.{}.accuracy".format(step, split)] = float(value)
        best_step = max(steps, key=lambda s: accuracies["step{}.val.accuracy".format(s)])
        accuracies["best.val.accuracy"] = accuracies["step{}.val.accuracy".format(best_step)]
        accuracies["best.test.accuracy"] = accuracies["step{}.test.accuracy".format(best_step)]
        accuracies.update({"elapsed_time": float(rng.uniform(100, 1000)), "uuid": str(uuid.UUID(int=rng.randint(
            2**31) * 2**96))})
        record.update({"abstract_reasoning_config.abstract_reasoning.num_iterations": str(steps[-1]),
                       "abstract_reasoning_config.dataset.name": "'auto'"})
        record.update({"abstract_reasoning_results." + k: v for k, v in accuracies.items()})
        record["path"] = os.path.join(output_root, study.name, str(model_num), "abstract_reasoning", "mean",
                                      "results", "aggregate", "abstract_reasoning.json")
        records.append(record)
    return records


def write_aggregate(records, path):
    """Writes records as dtl_aggregate does (a DataFrame's JSON, orient columns)."""
    pd.DataFrame(records).to_json(path_or_buf=path)


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def _gin_text(value):
    """A value as gin's operative config prints it."""
    if isinstance(value, float):
        return repr(value)
    return hyperparams.to_bindings({"x": value})[0][len("x = "):]


def _model_keys(study, model_num, config, rng):
    """The train_* keys: the study's model gin file, then the sweep's bindings, as the operative config has them."""
    train_config = results.gin_dict(study.get_model_config(model_num)[1])
    train_config["model.model_num"] = str(model_num)
    train_config.update({key: _gin_text(value) for key, value in config.items()})
    train_results = {"loss": float(rng.uniform(20, 200)), "reconstruction_loss": float(rng.uniform(10, 170)),
                     "elbo": -float(rng.uniform(20, 200)), "regularizer": float(rng.uniform(5, 30)),
                     "kl_loss": float(rng.uniform(5, 30)), "global_step": 300000,
                     "elapsed_time": float(rng.uniform(3e4, 9e4)),
                     "uuid": "{}-{}".format(study.name, model_num)}
    record = {"train_config." + k: v for k, v in train_config.items()}
    record.update({"train_results." + k: v for k, v in train_results.items()})
    return record


def _postprocess_keys(study_name, model_num, representation, rng, output_root):
    config = {"dataset.name": "'auto'", "postprocess.name": "'{}'".format(representation),
              "postprocess.postprocess_fn": "@{}_representation".format(representation),
              "postprocess.random_seed": "2357136044"}
    results = {"elapsed_time": float(rng.uniform(1, 10)), "uuid": "post-{}-{}".format(model_num, representation),
               "model_dir": os.path.abspath(os.path.join(output_root, study_name, str(model_num), "model"))}
    record = {"postprocess_config." + k: v for k, v in config.items()}
    record.update({"postprocess_results." + k: v for k, v in results.items()})
    return record


def _quality(config, rng):
    """A hidden disentanglement quality: grows with the regulariser's rank, plus a per-model draw."""
    strength = 0.0
    for key in ("vae.beta", "factor_vae.gamma", "dip_vae.lambda_od", "beta_tc_vae.beta", "annealed_vae.c_max"):
        if key in config:
            strength = np.log1p(float(config[key]))
    return 0.4 * strength - 1.0 + rng.normal(0, 0.7)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _evaluation_keys(metric, config, quality, representation, rng):
    function = METRIC_FUNCTIONS.get(metric, metric)
    results = _results(function, config, quality + (0.2 if representation == "mean" else -0.2), rng)
    results["elapsed_time"] = float(rng.uniform(10, 600))
    results["uuid"] = str(uuid.UUID(int=int(rng.randint(2**31)) * 2**96))
    evaluation_config = {"dataset.name": "'auto'", "evaluation.evaluation_fn": "@{}".format(function),
                         "evaluation.name": "'{}'".format(metric), "evaluation.random_seed": "3071714933"}
    record = {"evaluation_config." + k: v for k, v in evaluation_config.items()}
    record.update({"evaluation_results." + k: v for k, v in results.items()})
    return record


def _results(function, config, quality, rng):
    def score(scale=1.0, noise=0.5):
        return float(_sigmoid(scale * quality + rng.normal(0, noise)))

    if function in ("beta_vae_sklearn", "factor_vae_score"):
        result = {"train_accuracy": 0.5 + 0.5 * score(), "eval_accuracy": 0.5 + 0.5 * score()}
        if function == "factor_vae_score":
            result["num_active_dims"] = int(rng.randint(1, 10))
        return result
    if function == "mig":
        return {"discrete_mig": 0.5 * score()}
    if function == "dci":
        result = {"disentanglement": score(), "completeness": score(), "informativeness_train": score(0.3),
                  "informativeness_test": score(0.3)}
        if "held_out.split" in config:
            result.update({"lasso_disentanglement": score(), "lasso_completeness": score()})
        return result
    if function == "sap_score":
        return {"SAP_score": 0.2 * score()}
    if function == "modularity_explicitness":
        return {"modularity_score": 0.7 + 0.3 * score(), "explicitness_score_train": score(0.3),
                "explicitness_score_test": score(0.3)}
    if function == "unsupervised_metrics":
        tc = float(np.exp(-quality + rng.normal(0, 0.4)))
        return {"gaussian_total_correlation": tc, "gaussian_wasserstein_correlation": tc / 2,
                "gaussian_wasserstein_correlation_norm": tc / (2 + tc), "mutual_info_score": 0.1 * tc}
    if function == "downstream_task":
        result = {}
        for size in DOWNSTREAM_SIZES:
            accuracies = [0.3 + 0.6 * score(0.5) * (1 - 1 / np.sqrt(size)) for _ in range(NUM_FACTORS)]
            result.update({"{}:mean_test_accuracy".format(size): float(np.mean(accuracies)),
                           "{}:mean_train_accuracy".format(size): float(np.mean(accuracies)) + 0.05,
                           "{}:min_test_accuracy".format(size): float(np.min(accuracies)),
                           "{}:min_train_accuracy".format(size): float(np.min(accuracies)) + 0.05})
            for i, accuracy in enumerate(accuracies):
                result["{}:test_accuracy_factor_{}".format(size, i)] = accuracy
                result["{}:train_accuracy_factor_{}".format(size, i)] = accuracy + 0.05
        return result
    if function == "fairness":
        unfair = 0.3 * float(_sigmoid(-quality + rng.normal(0, 0.8)))
        result = {}
        for prefix, factor in (("mean_fairness", 1.0), ("max_fairness", 1.8)):
            for a in ("mean", "max"):
                for b in ("mean", "max"):
                    bump = 1.3 if "max" in (a, b) else 1.0
                    result["{}:{}_sens:{}_pred".format(prefix, a, b)] = unfair * factor * bump
                    result["{}:{}_pred:{}_sens".format(prefix, a, b)] = unfair * factor * bump
        return result
    if function in ("held_out_reconstruction", "composition_reconstruction"):
        dataset = config.get("dataset.name", "dsprites_full")
        from dlib_torch.visualize.report import records as records_lib
        condition = records_lib.condition_of_split(config.get("held_out.split"))
        floor = NLL_FLOOR.get(dataset, 50.0)
        train = floor + abs(rng.normal(10, 5))
        test = train * (1 + NLL_GAP.get(condition, 0.5) * float(np.exp(rng.normal(0, 0.3))))
        result = {"train_nll": train, "test_nll": test, "nll_gap": test - train, "train_mse": train / 1e4,
                  "test_mse": test / 1e4, "mse_gap": (test - train) / 1e4, "train_pixel_accuracy": 0.99,
                  "test_pixel_accuracy": 0.99 - 1e-5 * (test - train), "pixel_accuracy_gap": 1e-5 * (test - train)}
        if function == "held_out_reconstruction":
            result.update({"num_train_combinations": 1000, "num_test_combinations": 100,
                           "num_train_images": 1000, "num_test_images": 100})
        else:
            result.update({"num_train_triplets": 3000, "num_test_triplets": 3000,
                           "held_out_commands_from_training": float(condition != "extrapolation")})
        return result
    if function == "dci_es":
        result = {"explicitness": score(), "size": 0.5, "disentanglement": score(), "completeness": score(),
                  "informativeness_train": score(0.3), "informativeness_test": score(0.3),
                  "best_capacity": int(rng.choice([1, 2, 4, 8, 16]))}
        for k in range(NUM_FACTORS):
            result["explicitness.factor_{}".format(k)] = score()
            for capacity in (1, 2, 4, 8, 16):
                result["loss.factor_{}.capacity_{}".format(k, capacity)] = 1 - score() * (1 - 1 / (capacity + 1))
        return result
    if function == "infomec":
        result = {"infom": score(), "infoe": score(0.3), "infoc": score(), "num_active_latents": 10}
        result.update({"nmi.factor_{}.code_{}".format(k, j): 0.1 * score() for k in range(NUM_FACTORS)
                       for j in range(10)})
        return result
    if function == "udr_sklearn":  # dtl_udr's per-model record of a study group
        return {"udr": score(), "udr_group": "dsprites_full|beta_vae", "udr_group_model_nums": [0, 1], "udr_pairwise_scores":
                [score(), score()], "num_models": 2}
    return {"score": score()}
