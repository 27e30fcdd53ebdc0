"""Sweep of paper_table_dsprites: the rows of Montero et al.'s dSprites table (ICLR 2021), in the paper's setting.

3 held-out conditions x 7 models x 3 seeds = 63 models, each the same setting as its model of
generalisation_study_v1_paper_architectures (the paper's architectures, optimisers, training lengths and model
selection), with the seed slowest so that models 0-20 are one complete table:

    model_num = 21 * seed + 7 * condition + model        (seed = model.random_seed; see README.md)

`table_config` builds a variant's settings (another data set, shorter VAE training): paper_table_dsprites_cpu
is one, and a user's own variant is a study folder whose sweep.py calls it.
"""
import os

from dlib_torch.config import reproduce

BASE_STUDY = "generalisation_study_v1_paper_architectures"
BASE_DATASET = DATASET = "dsprites_full"
# The paper's dSprites variants, in its table's column order: recombination to element, to range, extrapolation.
SPLITS = ["leave1out", "shape2tx", "blank_side"]
# The paper's table rows: (model.name, regulariser key, value); the ground-truth decoder has none.
MODELS = [("beta_vae", "vae.beta", 1.), ("beta_vae", "vae.beta", 8.), ("beta_vae", "vae.beta", 12.),
          ("factor_vae", "factor_vae.gamma", 20.), ("factor_vae", "factor_vae.gamma", 50.),
          ("factor_vae", "factor_vae.gamma", 100.), ("gt_decoder", None, None)]
NUM_SEEDS = 3


def base_study():
    return reproduce.get_study(BASE_STUDY)


def get_model_config_file(config):
    """The paper's architectures file of generalisation_study_v1_paper_architectures (an absolute path, so that
    a variant in any folder finds it)."""
    del config
    return os.path.join(base_study().folder, "model_configs", "paper_architectures.gin")


def _is_row(config, split, model, seed):
    name, key, value = model
    return (config["dataset.name"] == BASE_DATASET and config["held_out.split"] == split
            and config["model.name"] == name and (key is None or config[key] == value)
            and config["model.random_seed"] == seed)


def paper_rows(num_seeds=NUM_SEEDS):
    """The base study's settings of the table's models, in this study's model-number order."""
    base = base_study().get_configs()
    rows = []
    for seed in range(num_seeds):
        for split in SPLITS:
            for model in MODELS:
                matches = [c for c in base if _is_row(c, split, model, seed)]
                assert len(matches) == 1, (split, model, seed)
                rows.append(dict(matches[0]))
    return rows


def table_config(config, dataset=DATASET, vae_steps=None, vae_selection=None):
    """One model's setting on `dataset`; with `vae_steps`, the VAEs train that many steps instead of 30 epochs
    and select their parameters every vae_selection[0] steps on vae_selection[1] batches (the ground-truth
    decoders keep the paper's 5,000 steps and selection)."""
    config = dict(config, **{"dataset.name": dataset})
    if vae_steps is not None and config["model.name"] != "gt_decoder":
        every_steps, num_batches = vae_selection
        config.update({"model.training_steps": vae_steps, "model_selection.every_steps": every_steps,
                       "model_selection.num_batches": num_batches})
    return config


def get_config():
    """Every model's setting, in model-number order."""
    return [table_config(config) for config in paper_rows()]
