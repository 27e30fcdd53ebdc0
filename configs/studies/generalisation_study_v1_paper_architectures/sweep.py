"""Sweep of generalisation_study_v1_paper_architectures: generalisation_study_v1's 480 models, same numbers, with
the paper's architectures and best-checkpoint selection (see README.md and model_configs/paper_architectures.gin).

model_num = 160 * dataset + 40 * condition + 5 * model + seed, as generalisation_study_v1.
"""
import math
import os

from dlib_torch.config import study

BASE = study.load_sweep_module(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                            "generalisation_study_v1"))
VAE_SELECTION_FRACTION = 0.2  # the paper validates on 20% of an epoch's batches, once per epoch
GT_DECODER_SELECTION = {"model_selection.every_steps": 10, "model_selection.num_batches": 100}


def get_model_config_file(config):
    """Every model trains from the paper's architectures file."""
    del config
    return os.path.join("model_configs", "paper_architectures.gin")


def paper_setting(config):
    """One model of generalisation_study_v1 with the paper's architecture and model selection."""
    config = dict(config)
    if config["model.model"] == "@gt_decoder()":
        config.update({"encoder.encoder_fn": "@burgess_encoder", "decoder.decoder_fn": "@higgins_decoder",
                       "gt_decoder.inputs": "raw"})
        config.update(GT_DECODER_SELECTION)
    else:
        config.update({"encoder.encoder_fn": "@burgess_encoder", "decoder.decoder_fn": "@burgess_decoder"})
        epoch = math.ceil(BASE.TRAINING_SET_SIZES[(config["dataset.name"], config["held_out.split"])]
                          / config.get("model.batch_size", 64))
        config.update({"model_selection.every_steps": epoch,
                       "model_selection.num_batches": math.ceil(VAE_SELECTION_FRACTION * epoch)})
    return config


def get_config():
    """Every model's setting, in generalisation_study_v1's model-number order."""
    return [paper_setting(config) for config in BASE.get_config()]
