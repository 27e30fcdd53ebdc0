"""generalisation_study_v1: the paper's grid, its model numbers, split sizes and training lengths."""
import math
import os

import pytest

from dlib_torch.config import reproduce
from dlib_torch.data.ground_truth import factor_names
from dlib_torch.data.ground_truth import splits

GRIDS = {"dsprites_full": (factor_names.DSPRITES, [3, 6, 40, 32, 32]),
         "shapes3d": (factor_names.SHAPES3D, [10, 10, 10, 8, 4, 15]),
         "mpi3d_real": (factor_names.MPI3D, [6, 6, 2, 3, 3, 40, 40])}


class FactorGrid:
    """A data set's factor grid without observations: all that sizing its held-out splits needs."""

    def __init__(self, names, sizes):
        self.factor_names, self.factors_num_values = names, sizes


@pytest.fixture(scope="module")
def study():
    return reproduce.get_study("generalisation_study_v1")


def test_grid_size_and_mapping(study):
    assert study.num_models() == 480
    configs = study.get_configs()
    datasets = ["dsprites_full", "shapes3d", "mpi3d_real"]
    families = ["dsprites", "shapes3d", "mpi3d"]
    conditions = ["interpolation", "recombination_to_element", "recombination_to_range", "extrapolation"]
    models = [("beta_vae", "vae.beta", 1.), ("beta_vae", "vae.beta", 8.), ("beta_vae", "vae.beta", 12.),
              ("factor_vae", "factor_vae.gamma", 20.), ("factor_vae", "factor_vae.gamma", 50.),
              ("factor_vae", "factor_vae.gamma", 100.), ("annealed_vae", "annealed_vae.c_max", 20.),
              ("gt_decoder", "model.model", "@gt_decoder()")]
    for model_num, config in enumerate(configs):
        dataset, rest = divmod(model_num, 160)
        condition, rest = divmod(rest, 40)
        model, seed = divmod(rest, 5)
        assert config["dataset.name"] == datasets[dataset]
        assert config["held_out.split"] == splits.CONDITIONS[families[dataset]][conditions[condition]]
        name, key, value = models[model]
        assert (config["model.name"], config[key], config["model.random_seed"]) == (name, value, seed)


def test_pinned_bindings(study):
    assert study.get_model_config(97)[0] == [
        "dataset.name = 'dsprites_full'", "held_out.split = 'shape2tx'", "encoder.encoder_fn = @conv_encoder",
        "decoder.decoder_fn = @deconv_decoder", "model.name = 'factor_vae'", "factor_vae.gamma = 20.0",
        "model.model = @factor_vae()", "model.batch_size = 128", "model.random_seed = 2",
        "model.training_steps = 144000"]
    assert study.get_model_config(359)[0] == [
        "dataset.name = 'mpi3d_real'", "held_out.split = 'interp_horizontal_axis'",
        "encoder.encoder_fn = @conv_encoder", "decoder.decoder_fn = @deconv_decoder",
        "model.name = 'gt_decoder'", "model.model = @gt_decoder()", "vae/AdamOptimizer.learning_rate = 0.001",
        "model.training_steps = 5000", "model.random_seed = 4"]


def test_training_set_sizes_match_the_splits(study):
    sizes = study.sweep.TRAINING_SET_SIZES
    assert len(sizes) == 12
    for (dataset, split), size in sizes.items():
        train, _ = splits.held_out_split(FactorGrid(*GRIDS[dataset]), split)
        assert train.num_combinations == size, (dataset, split)


def test_about_30_epochs_of_the_training_split(study):
    for config in study.get_configs():
        if config["model.name"] == "gt_decoder":
            assert config["model.training_steps"] == 5000
            continue
        batch = config.get("model.batch_size", 64)
        size = study.sweep.TRAINING_SET_SIZES[(config["dataset.name"], config["held_out.split"])]
        assert config["model.training_steps"] == 30 * math.ceil(size / batch)


def test_metrics_and_representation(study):
    assert [os.path.basename(p) for p in study.get_postprocess_config_files()] == ["mean.gin"]
    assert [os.path.basename(p) for p in study.get_eval_config_files()] == ["dci.gin", "held_out_reconstruction.gin"]
    with open(study.get_eval_config_files()[0]) as f:
        assert "dci.paper_variant = True" in f.read().splitlines()
