"""Sweep of generalisation_study_v1: 3 data sets x 4 held-out conditions x 8 models x 5 seeds = 480 models.

Montero et al., "The Role of Disentanglement in Generalisation", ICLR 2021.
model_num = 160 * dataset + 40 * condition + 5 * model + seed (see README.md for the tables).
"""
import math

from dlib_torch.config import hyperparams as h
from dlib_torch.config import reference_sweeps
from dlib_torch.data.ground_truth import splits

# data set -> family of named splits in dlib_torch.data.ground_truth.splits.
DATASETS = {"dsprites_full": "dsprites", "shapes3d": "shapes3d", "mpi3d_real": "mpi3d"}
CONDITIONS = ["interpolation", "recombination_to_element", "recombination_to_range", "extrapolation"]
NUM_SEEDS = 5
EPOCHS = 30

# Number of training images (= factor combinations) of each held-out split; a test checks them against
# `splits.held_out_split`. The paper trains for 30 epochs of this set.
TRAINING_SET_SIZES = {
    ("dsprites_full", "interp_posX"): 368640,
    ("dsprites_full", "leave1out"): 731472,
    ("dsprites_full", "shape2tx"): 614400,
    ("dsprites_full", "blank_side"): 368640,
    ("shapes3d", "interp_object_hue"): 240000,
    ("shapes3d", "leave1out"): 479928,
    ("shapes3d", "shape2ohue"): 420000,
    ("shapes3d", "fhue_gt50"): 240000,
    ("mpi3d_real", "interp_horizontal_axis"): 518400,
    ("mpi3d_real", "leave1out"): 1036784,
    ("mpi3d_real", "cyl2horz"): 950400,
    ("mpi3d_real", "horz_gt20"): 518400,
}


def get_datasets_and_splits():
    """(data set, held-out split) pairs: data set slowest, then the conditions in CONDITIONS order."""
    return [{"dataset.name": dataset, "held_out.split": splits.CONDITIONS[family][condition]}
            for dataset, family in DATASETS.items() for condition in CONDITIONS]


def get_models():
    """The paper's 7 end-to-end models (VAE, beta-VAE, FactorVAE, CCI-VAE) and the ground-truth decoder."""
    beta_vae = h.zipit([h.fixed("model.name", "beta_vae"), h.sweep("vae.beta", [1., 8., 12.]),
                        h.fixed("model.model", "@vae()")])
    factor_vae = h.zipit([h.fixed("model.name", "factor_vae"), h.sweep("factor_vae.gamma", [20., 50., 100.]),
                          h.fixed("model.model", "@factor_vae()"), h.fixed("model.batch_size", 128)])
    # CCI-VAE: gamma * |KL - C| with C growing from 0 to 20 nats over 10,000 steps.
    cci_vae = h.zipit([h.fixed("model.name", "annealed_vae"), h.fixed("annealed_vae.c_max", 20.),
                       h.fixed("annealed_vae.gamma", 50.), h.fixed("annealed_vae.iteration_threshold", 10000),
                       h.fixed("model.model", "@annealed_vae()")])
    # Decodes the ground-truth factor values; Adam 1e-3, batch 64, 5,000 steps in the paper.
    gt_decoder = h.zipit([h.fixed("model.name", "gt_decoder"), h.fixed("model.model", "@gt_decoder()"),
                          h.fixed("vae/AdamOptimizer.learning_rate", 0.001),
                          h.fixed("model.training_steps", 5000)])
    return h.chainit([beta_vae, factor_vae, cci_vae, gt_decoder])


def training_steps(dataset, split, batch_size):
    """About EPOCHS epochs of the training split: EPOCHS * ceil(training set size / batch size)."""
    return EPOCHS * math.ceil(TRAINING_SET_SIZES[(dataset, split)] / batch_size)


def get_config():
    """Every model's setting, in model-number order (seed fastest)."""
    configs = h.product([get_datasets_and_splits(), reference_sweeps.get_architecture(), get_models(),
                         reference_sweeps.get_seeds(NUM_SEEDS)])
    for config in configs:
        if "model.training_steps" not in config:
            config["model.training_steps"] = training_steps(
                config["dataset.name"], config["held_out.split"], config.get("model.batch_size", 64))
    return configs
