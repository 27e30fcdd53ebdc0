"""Sweep of latent_quantization_hfs_study_v1: the correlation benchmarks of Roth et al. (HFS, ICLR 2023) and the
quantized latents of Hsu et al. (QLAE, NeurIPS 2023) side by side: 4 data sets x 10 factor distributions
x 6 methods x 5 seeds = 1,200 models.

Distributions as correlation_study_v1 (uncorrelated, then three single pairs at sigma 0.7, 0.4, 0.2). Methods:
β-VAE, β-TCVAE, β-VAE + HFS, β-TCVAE + HFS, QLAE, QLVAE. model_num = 300 * dataset + 30 * distribution
+ 5 * method + seed (see README.md).
"""
from dlib_torch.config import correlation_sweeps

DATASETS = ["dsprites_procedural", "dsprites_full", "shapes3d", "mpi3d_real"]
NUM_SEEDS = 5
HFS_GAMMA = 1000.


def get_methods():
    """The six methods with their weights, in model-number order."""
    return [
        {"model.name": "beta_vae", "model.model": "@vae()", "vae.beta": 4.},
        {"model.name": "beta_tc_vae", "model.model": "@beta_tc_vae()", "beta_tc_vae.beta": 6.},
        {"model.name": "beta_vae_hfs", "model.model": "@vae()", "vae.beta": 4., "vae.hfs": "@hfs()",
         "hfs.gamma": HFS_GAMMA},
        {"model.name": "beta_tc_vae_hfs", "model.model": "@beta_tc_vae()", "beta_tc_vae.beta": 6.,
         "beta_tc_vae.hfs": "@hfs()", "hfs.gamma": HFS_GAMMA},
        {"model.name": "qlae", "model.model": "@qlae()"},
        {"model.name": "qlvae", "model.model": "@qlvae()"},
    ]


def get_config():
    """Every model's setting, in model-number order (seed fastest)."""
    return correlation_sweeps.grid(DATASETS, get_methods(), NUM_SEEDS)


def get_model_config_file(config):
    """QLAE and QLVAE train from their own files (their optimizer and batch), the others from vae.gin."""
    return {"qlae": "model_configs/qlae.gin", "qlvae": "model_configs/qlvae.gin"}.get(config["model.name"],
                                                                                      "model_configs/vae.gin")
