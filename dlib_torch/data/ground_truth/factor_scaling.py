"""Factor indices scaled to [0, 1] per factor: the ground-truth decoder's input (Montero et al.), which every
stage that feeds it (training, postprocessing, the held-out reconstruction metric, the pictures) computes alike."""
import numpy as np


def factor_scales(factors_num_values):
    """Per-factor multipliers that map indices to [0, 1]: 1 / (num_values - 1), or 0 for a single value."""
    sizes = np.asarray(factors_num_values, dtype=np.float64)
    return np.where(sizes > 1, 1.0 / np.maximum(sizes - 1, 1), 0.0).astype(np.float32)


def scaled_factor_inputs(factors, factors_num_values):
    """The decoder's input for integer factors [B, num_factors]: float32 indices scaled to [0, 1]."""
    return np.asarray(factors, dtype=np.float32) * factor_scales(factors_num_values)
