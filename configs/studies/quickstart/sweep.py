"""Sweep of quickstart: β-VAE and FactorVAE on procedural dSprites, each with three held-out splits.

model_num = 2 * split + model: splits blank_side (extrapolation, the clearest failure, so model 0 shows it),
shape2tx (recombination to range), leave1out (recombination to element); models β-VAE (β = 4), FactorVAE (γ = 20).
"""
from dlib_torch.config import hyperparams as h


def get_config():
    """Every model's setting, in model-number order."""
    held_out_splits = h.sweep("held_out.split", ["blank_side", "shape2tx", "leave1out"])
    beta_vae = h.zipit([h.fixed("model.name", "beta_vae"), h.fixed("vae.beta", 4.),
                        h.fixed("model.model", "@vae()")])
    factor_vae = h.zipit([h.fixed("model.name", "factor_vae"), h.fixed("factor_vae.gamma", 20.),
                          h.fixed("model.model", "@factor_vae()")])
    return h.product([held_out_splits, h.chainit([beta_vae, factor_vae]), h.fixed("model.random_seed", 0)])
