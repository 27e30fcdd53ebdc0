"""Sweep of quickstart: β-VAE and FactorVAE on procedural dSprites, each with three held-out splits.

model_num = 2 * split + model: splits shape2tx (recombination to range), blank_side (extrapolation),
leave1out (recombination to element); models β-VAE (β = 4), FactorVAE (γ = 20).
"""
from dlib_torch.config import hyperparams as h


def get_config():
    """Every model's setting, in model-number order."""
    held_out_splits = h.sweep("held_out.split", ["shape2tx", "blank_side", "leave1out"])
    beta_vae = h.zipit([h.fixed("model.name", "beta_vae"), h.fixed("vae.beta", 4.),
                        h.fixed("model.model", "@vae()")])
    factor_vae = h.zipit([h.fixed("model.name", "factor_vae"), h.fixed("factor_vae.gamma", 20.),
                          h.fixed("model.model", "@factor_vae()")])
    return h.product([held_out_splits, h.chainit([beta_vae, factor_vae]), h.fixed("model.random_seed", 0)])
