"""Sweep of fairness_study_v1: the 12,600 models of unsupervised_study_v1, in the same order.

Locatello et al., "On the Fairness of Disentangled Representations", NeurIPS 2019.
model_num = 1800 * dataset + 50 * (6 * method + hyper-parameter) + seed.
"""
from dlib_torch.config import reference_sweeps

DATASETS = ["dsprites_full", "color_dsprites", "noisy_dsprites", "scream_dsprites", "smallnorb", "cars3d",
            "shapes3d"]


def get_config():
    """Every model's setting, in the reference's model-number order."""
    return reference_sweeps.get_reference_config(DATASETS, num_seeds=50)
