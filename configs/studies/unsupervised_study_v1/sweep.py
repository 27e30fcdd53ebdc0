"""Sweep of unsupervised_study_v1: 7 data sets x 36 models x 50 seeds = 12,600 models.

Locatello et al., "Challenging Common Assumptions in the Unsupervised Learning of Disentangled
Representations", ICML 2019. model_num = 1800 * dataset + 50 * (6 * method + hyper-parameter) + seed.
"""
from dlib_torch.config import reference_sweeps

DATASETS = ["dsprites_full", "color_dsprites", "noisy_dsprites", "scream_dsprites", "smallnorb", "cars3d",
            "shapes3d"]


def get_config():
    """Every model's setting, in the reference's model-number order."""
    return reference_sweeps.get_reference_config(DATASETS, num_seeds=50)
