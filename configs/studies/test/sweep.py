"""Sweep of the test study: three tiny models for the test suite (seconds each on a CPU).

0: β-VAE, seed 0; 1: β-VAE (β = 4) on the `shape2tx` held-out split, seed 1; 2: FactorVAE, seed 2.
"""

MODEL_CONFIG = "model_configs/train_test.gin"
# Fewer and shorter animations and fewer points for the interventional effects than the reference's.
VISUALIZE_OPTIONS = {"num_animations": 1, "num_frames": 5, "num_points_irs": 1000}


def get_config():
    """Every model's setting, in model-number order."""
    return [
        {"model.name": "beta_vae", "vae.beta": 1., "model.model": "@vae()", "model.random_seed": 0},
        {"model.name": "beta_vae", "vae.beta": 4., "model.model": "@vae()", "held_out.split": "shape2tx",
         "model.random_seed": 1},
        {"model.name": "factor_vae", "factor_vae.gamma": 10., "model.model": "@factor_vae()",
         "model.random_seed": 2},
    ]


def get_model_config_file(config):
    """Every model trains from train_test.gin."""
    del config
    return MODEL_CONFIG
