"""Sweep of correlation_quickstart: β-VAE, β-VAE + HFS and Ada-GVAE on procedural dSprites whose posX and posY are
uncorrelated, or correlated with sigma 0.4 or 0.2 (Träuble et al.), two seeds each: 18 CPU-sized models.

model_num = 6 * distribution + 2 * method + seed (see README.md).
"""
from dlib_torch.config import correlation_sweeps
from dlib_torch.config import hyperparams as h

PAIR = ("posX", "posY")
STRENGTHS = [0.4, 0.2]
NUM_SEEDS = 2
# Fewer frames and points than the reference's defaults, so the visualisation stays quick.
VISUALIZE_OPTIONS = {"num_animations": 1, "num_frames": 5, "num_points_irs": 1000}


def get_methods():
    """(name, setting) of the three methods, in model-number order."""
    return [
        ("beta_vae", {"model.name": "beta_vae", "model.model": "@vae()", "vae.beta": 4.}),
        ("beta_vae_hfs", {"model.name": "beta_vae_hfs", "model.model": "@vae()", "vae.beta": 4.,
                          "vae.hfs": "@hfs()", "hfs.gamma": 100.}),
        ("ada_gvae", {"model.name": "ada_gvae", "model.model": "@group_vae_argmax()", "group_vae.beta": 4.}),
    ]


def get_config():
    """Every model's setting, in model-number order (seed fastest)."""
    distributions = correlation_sweeps.distributions([PAIR], STRENGTHS)
    methods = [setting for _, setting in get_methods()]
    return h.product([distributions, methods, h.sweep("model.random_seed", list(range(NUM_SEEDS)))])


def get_model_config_file(config):
    """The weakly-supervised model trains from its own file."""
    return "model_configs/weak.gin" if config["model.name"] == "ada_gvae" else "model_configs/shared.gin"


def get_trainer(config):
    """Ada-GVAE trains on pairs of observations (dtl_train_weakly_supervised's trainer)."""
    return "weak" if config["model.name"] == "ada_gvae" else "unsupervised"
