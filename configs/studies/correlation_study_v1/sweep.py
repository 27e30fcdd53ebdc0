"""Sweep of correlation_study_v1: Träuble et al.'s grid, "On Disentangled Representations Learned from Correlated
Data" (ICML 2021): 4 data sets x 10 factor distributions x 7 methods x 5 seeds = 1,400 models.

Distributions: uncorrelated, then each of the data set's three single pairs (config/correlation_sweeps.py) at
sigma 0.7, 0.4 and 0.2. Methods: disentanglement_lib's six unsupervised ones at one hyper-parameter each and the
weakly-supervised Ada-GVAE. model_num = 350 * dataset + 35 * distribution + 5 * method + seed (see README.md).
"""
from dlib_torch.config import correlation_sweeps

# procedural dSprites first: its 350 models need no download.
DATASETS = ["dsprites_procedural", "dsprites_full", "shapes3d", "mpi3d_real"]
NUM_SEEDS = 5
WEAK_METHODS = ("ada_gvae",)


def get_methods():
    """The seven methods with their hyper-parameter, in model-number order."""
    return [
        {"model.name": "beta_vae", "model.model": "@vae()", "vae.beta": 4.},
        {"model.name": "factor_vae", "model.model": "@factor_vae()", "factor_vae.gamma": 20.,
         "discriminator.discriminator_fn": "@fc_discriminator"},
        {"model.name": "beta_tc_vae", "model.model": "@beta_tc_vae()", "beta_tc_vae.beta": 6.},
        {"model.name": "dip_vae_i", "model.model": "@dip_vae()", "dip_vae.lambda_od": 5.,
         "dip_vae.lambda_d_factor": 10., "dip_vae.dip_type": "i"},
        {"model.name": "dip_vae_ii", "model.model": "@dip_vae()", "dip_vae.lambda_od": 5.,
         "dip_vae.lambda_d_factor": 1., "dip_vae.dip_type": "ii"},
        {"model.name": "annealed_vae", "model.model": "@annealed_vae()", "annealed_vae.c_max": 25.,
         "annealed_vae.iteration_threshold": 100000, "annealed_vae.gamma": 1000},
        {"model.name": "ada_gvae", "model.model": "@group_vae_argmax()", "group_vae.beta": 1.},
    ]


def get_config():
    """Every model's setting, in model-number order (seed fastest)."""
    return correlation_sweeps.grid(DATASETS, get_methods(), NUM_SEEDS)


def get_model_config_file(config):
    """The weakly-supervised model trains from its own file."""
    return "model_configs/weak.gin" if config["model.name"] in WEAK_METHODS else "model_configs/shared.gin"


def get_trainer(config):
    """Ada-GVAE trains on pairs of observations (dtl_train_weakly_supervised's trainer)."""
    return "weak" if config["model.name"] in WEAK_METHODS else "unsupervised"
