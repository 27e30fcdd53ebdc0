"""Sweep of paper_table_dsprites_cpu: paper_table_dsprites's 63 models, same numbers, sized for a CPU.

Procedural dSprites (`dsprites_procedural`: the published factor grid, rendered, no download), and VAEs trained for
VAE_STEPS steps instead of 30 epochs (about 170,000-340,000 steps), selecting their parameters every
VAE_SELECTION[0] steps on VAE_SELECTION[1] training batches. The ground-truth decoders keep the paper's 5,000
steps and selection. model_num = 21 * seed + 7 * condition + model, as paper_table_dsprites.
"""
from dlib_torch.config import reproduce

DATASET = "dsprites_procedural"
VAE_STEPS = 5000
VAE_SELECTION = (1000, 100)  # (every_steps, num_batches)


def _table():
    return reproduce.get_study("paper_table_dsprites").sweep


def get_model_config_file(config):
    return _table().get_model_config_file(config)


def get_config():
    """Every model's setting, in paper_table_dsprites's model-number order."""
    table = _table()
    return [table.table_config(config, DATASET, VAE_STEPS, VAE_SELECTION) for config in table.paper_rows()]
