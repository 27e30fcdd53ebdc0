"""Sweep of composition_study_v1: 3 data sets x 3 conditions x 4 mixers x 5 seeds = 180 Composers.

Montero et al., "The Role of Disentanglement in Generalisation", ICLR 2021, the composition task.
model_num = 60 * dataset + 20 * condition + 5 * mixer + seed (see README.md for the tables).
"""
from dlib_torch.config import hyperparams as h
from dlib_torch.data.ground_truth import splits

# data set -> family of named splits in dlib_torch.data.ground_truth.splits.
DATASETS = {"dsprites_full": "dsprites", "shapes3d": "shapes3d", "mpi3d_real": "mpi3d"}
# The paper's table: "extrapolation", "dim combgen" (recombination to range), "local combgen" (to element).
CONDITIONS = ["extrapolation", "recombination_to_range", "recombination_to_element"]
MIXERS = ["linear", "interp", "fixint", "mlp"]
NUM_SEEDS = 5


def get_datasets_and_splits():
    """(data set, held-out split) pairs: data set slowest, then the conditions in CONDITIONS order."""
    return [{"dataset.name": dataset, "held_out.split": splits.CONDITIONS[family][condition]}
            for dataset, family in DATASETS.items() for condition in CONDITIONS]


def get_config():
    """Every model's setting, in model-number order (seed fastest)."""
    mixers = h.zipit([h.sweep("composer.mixer", MIXERS),
                      h.sweep("model.name", ["composer_" + mixer for mixer in MIXERS])])
    return h.product([get_datasets_and_splits(), mixers, h.sweep("model.random_seed", list(range(NUM_SEEDS)))])
