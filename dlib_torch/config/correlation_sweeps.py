"""The sweep pieces shared by the correlated-data studies (correlation_study_v1, latent_quantization_hfs_study_v1,
correlation_quickstart): which factor pairs are correlated on each data set and how strongly.

Training draws the pair from Träuble et al.'s Gaussian band (data/ground_truth/correlated_factors.py); each study
crosses its methods with `distributions(...)`: the uncorrelated baseline first, then every pair at every strength.
"""
from dlib_torch.config import hyperparams as h

# Data set -> the factor pairs correlated one at a time: Roth et al.'s single-pair settings (public code
# facebookresearch/disentangling-correlated-factors, constraints/avail_correlations.yaml, `*_single_{1,2,3}_01`)
# in this library's factor names.
SINGLE_PAIRS = {
    "dsprites_procedural": [("shape", "scale"), ("posX", "posY"), ("shape", "posY")],
    "dsprites_full": [("shape", "scale"), ("posX", "posY"), ("shape", "posY")],
    "shapes3d": [("floor_hue", "wall_hue"), ("shape", "scale"), ("shape", "wall_hue")],
    "mpi3d_real": [("camera_height", "background_color"), ("object_color", "object_size"),
                   ("horizontal_axis", "vertical_axis")],
}
# Träuble et al.'s correlation strengths (sigma of the band, weakest first); the uncorrelated baseline comes with
# every study as the first distribution.
STRENGTHS = [0.7, 0.4, 0.2]


def uncorrelated():
    """The setting of independent factors (disentanglement_lib's sampling)."""
    return {"factor_sampling.mode": "independent"}


def correlated(pair, strength, direction=1):
    """The setting of one pair correlated with band width `strength`."""
    return {"factor_sampling.mode": "correlated", "factor_sampling.pairs": [tuple(pair)],
            "factor_sampling.strengths": [float(strength)], "factor_sampling.directions": [int(direction)]}


def distributions(pairs, strengths=STRENGTHS):
    """The uncorrelated setting, then each pair (slower) at each strength (faster), as a list of settings."""
    return [uncorrelated()] + [correlated(pair, strength) for pair in pairs for strength in strengths]


def grid(datasets, methods, num_seeds):
    """Every model's setting of a study over `datasets` x their `distributions` x `methods` x seeds (the first
    varies slowest, the seed fastest), as each study's get_config returns it."""
    configs = []
    for dataset in datasets:
        configs += h.product([h.fixed("dataset.name", dataset), distributions(SINGLE_PAIRS[dataset]), methods,
                              h.sweep("model.random_seed", list(range(num_seeds)))])
    return configs
