"""Stage-1 sweep of abstract_reasoning_study_v1: 2 data sets x 36 models x 5 seeds = 360 models.

van Steenkiste et al., "Are Disentangled Representations Helpful for Abstract Visual Reasoning?",
NeurIPS 2019. model_num = 180 * dataset + 5 * (6 * method + hyper-parameter) + seed.
"""
from dlib_torch.config import reference_sweeps

DATASETS = ["shapes3d", "abstract_dsprites"]


def get_config():
    """Every model's setting, in the reference's model-number order."""
    return reference_sweeps.get_reference_config(DATASETS, num_seeds=5)

# Stage 2: after stage 1, dtl_reproduce trains the abstract-reasoning model of each PGM type on the mean
# representation, into <out>/abstract_reasoning/<type>/.
REASON_CONFIG_DIR = "stage2/pgm_types"
REASON_REPRESENTATION = "mean"
