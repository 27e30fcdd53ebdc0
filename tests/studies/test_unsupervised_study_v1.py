"""unsupervised_study_v1: the reference's 12,600 models in the reference's model-number order."""
import os

import pytest

from dlib_torch.config import reproduce

ARCH = ["encoder.encoder_fn = @conv_encoder", "decoder.decoder_fn = @deconv_decoder"]

# Bindings of the reference's sweep (disentanglement_lib config/unsupervised_study_v1/sweep.py), as
# `dlib_reproduce --only_print` lists them.
PINNED = {
    0: ["dataset.name = 'dsprites_full'"] + ARCH + [
        "model.name = 'beta_vae'", "vae.beta = 1.0", "model.model = @vae()", "model.random_seed = 0"],
    50: ["dataset.name = 'dsprites_full'"] + ARCH + [
        "model.name = 'beta_vae'", "vae.beta = 2.0", "model.model = @vae()", "model.random_seed = 0"],
    300: ["dataset.name = 'dsprites_full'"] + ARCH + [
        "model.name = 'factor_vae'", "factor_vae.gamma = 10.0", "model.model = @factor_vae()",
        "discriminator.discriminator_fn = @fc_discriminator", "model.random_seed = 0"],
    600: ["dataset.name = 'dsprites_full'"] + ARCH + [
        "model.name = 'dip_vae_i'", "model.model = @dip_vae()", "dip_vae.lambda_od = 1.0",
        "dip_vae.lambda_d_factor = 10.0", "dip_vae.dip_type = 'i'", "model.random_seed = 0"],
    900: ["dataset.name = 'dsprites_full'"] + ARCH + [
        "model.name = 'dip_vae_ii'", "model.model = @dip_vae()", "dip_vae.lambda_od = 1.0",
        "dip_vae.lambda_d_factor = 1.0", "dip_vae.dip_type = 'ii'", "model.random_seed = 0"],
    1200: ["dataset.name = 'dsprites_full'"] + ARCH + [
        "model.name = 'beta_tc_vae'", "model.model = @beta_tc_vae()", "beta_tc_vae.beta = 1.0",
        "model.random_seed = 0"],
    1500: ["dataset.name = 'dsprites_full'"] + ARCH + [
        "model.name = 'annealed_vae'", "annealed_vae.c_max = 5.0", "annealed_vae.iteration_threshold = 100000",
        "annealed_vae.gamma = 1000", "model.model = @annealed_vae()", "model.random_seed = 0"],
    5523: ["dataset.name = 'scream_dsprites'"] + ARCH + [
        "model.name = 'beta_vae'", "vae.beta = 4.0", "model.model = @vae()", "model.random_seed = 23"],
    12599: ["dataset.name = 'shapes3d'"] + ARCH + [
        "model.name = 'annealed_vae'", "annealed_vae.c_max = 100.0",
        "annealed_vae.iteration_threshold = 100000", "annealed_vae.gamma = 1000",
        "model.model = @annealed_vae()", "model.random_seed = 49"],
}

METRICS = ["beta_vae_sklearn", "dci", "downstream_task_boosted_trees", "downstream_task_logistic_regression",
           "factor_vae_metric", "mig", "modularity_explicitness", "sap_score", "unsupervised"]


@pytest.fixture(scope="module")
def study():
    return reproduce.get_study("unsupervised_study_v1")


def test_number_of_models(study):
    assert study.num_models() == 12600


@pytest.mark.parametrize("model_num", sorted(PINNED))
def test_pinned_model_numbers(study, model_num):
    bindings, config_file = study.get_model_config(model_num)
    assert bindings == PINNED[model_num]
    assert config_file.endswith(os.path.join("unsupervised_study_v1", "model_configs", "shared.gin"))


def test_model_number_formula(study):
    datasets = ["dsprites_full", "color_dsprites", "noisy_dsprites", "scream_dsprites", "smallnorb", "cars3d",
                "shapes3d"]
    methods = ["beta_vae", "factor_vae", "dip_vae_i", "dip_vae_ii", "beta_tc_vae", "annealed_vae"]
    configs = study.get_configs()
    for model_num in range(0, 12600, 7):
        dataset, rest = divmod(model_num, 1800)
        method, seed = divmod(rest, 50)
        config = configs[model_num]
        assert config["dataset.name"] == datasets[dataset]
        assert config["model.name"] == methods[method // 6]
        assert config["model.random_seed"] == seed


def test_postprocess_and_metric_configs(study):
    assert [os.path.basename(p) for p in study.get_postprocess_config_files()] == ["mean.gin", "sampled.gin"]
    assert [os.path.basename(p)[:-4] for p in study.get_eval_config_files()] == METRICS


def test_shared_gin_has_the_reference_training_settings(study):
    with open(study.get_model_config(0)[1]) as f:
        text = f.read()
    for line in ["model.batch_size = 64", "model.training_steps = 300000", "encoder.num_latent = 10",
                 "vae/AdamOptimizer.learning_rate = 0.0001", "discriminator/AdamOptimizer.beta1 = 0.5",
                 "reconstruction_loss.loss_fn = @bernoulli_loss"]:
        assert line in text.splitlines()
