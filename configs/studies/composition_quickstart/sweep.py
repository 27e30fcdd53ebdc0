"""Sweep of composition_quickstart: the paper's linear-mixer Composer on procedural dSprites, one model per split.

model_num = split: blank_side (extrapolation), shape2tx (recombination to range), leave1out (recombination to
element).
"""
from dlib_torch.config import hyperparams as h

# Fewer frames and points than the reference's defaults, so the visualisation stays quick.
VISUALIZE_OPTIONS = {"num_animations": 2, "num_frames": 10, "num_points_irs": 2000}


def get_config():
    """Every model's setting, in model-number order."""
    return h.product([h.sweep("held_out.split", ["blank_side", "shape2tx", "leave1out"]),
                      h.fixed("model.name", "composer_linear")])
