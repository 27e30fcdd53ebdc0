"""Tests of dlib_torch/methods/unsupervised/composer.py: the mixers, the loss, the batches and the export."""
import os

import gin
import numpy as np
import pytest
import torch

from dlib_torch.data.ground_truth import dsprites_procedural
from dlib_torch.data.ground_truth import splits
from dlib_torch.methods.unsupervised import composer
from dlib_torch.utils import exported_modules
from dlib_torch.utils.errors import ConfigError

BINDINGS = ["encoder.num_latent = 6", "encoder.encoder_fn = @test_encoder", "decoder.decoder_fn = @test_decoder",
            "reconstruction_loss.loss_fn = @bernoulli_loss", "vae_optimizer.optimizer_fn = @AdamOptimizer"]


@pytest.fixture
def configured():
    gin.clear_config()
    gin.parse_config(BINDINGS)
    yield
    gin.clear_config()


def _model(mixer, data):
    torch.manual_seed(0)
    return composer.Composer(mixer=mixer).build(data.observation_shape, data.factors_num_values)


@pytest.mark.parametrize("mixer", composer.MIXERS)
def test_mixer_shapes_and_gradients_reach_encoder_mixer_and_both_images(configured, mixer):
    data = dsprites_procedural.ProceduralDSprites()
    model = _model(mixer, data)
    (command, actions, target), reference = model.sample_batch(data, 8, np.random.RandomState(0), "cpu")
    assert reference.shape == command.shape == target.shape == (8, 64, 64, 1) and actions.shape == (8, 5)
    reference.requires_grad_(True)
    command.requires_grad_(True)
    [loss], scalars = model.model_fn(reference, 0, factors=(command, actions, target))
    assert set(scalars) == {"loss", "reconstruction_loss", "elbo", "regularizer", "kl_loss"}
    loss.backward()
    for name in ("reference", "command"):  # both encoded images shape the loss
        grad = {"reference": reference, "command": command}[name].grad
        assert grad is not None and grad.abs().sum() > 0, name
    for module in (model.encoder, model.decoder, model.mixer):
        for name, parameter in module.named_parameters():
            assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    logits, _, _ = model.compose(reference, command, actions, sample=False)
    assert logits.shape == (8, 64, 64, 1)


def test_fixint_keeps_the_reference_on_latents_the_action_does_not_select():
    mixer = composer.FixedInterpolationMixer(num_latent=6, num_actions=4)
    z_reference, z_command = torch.randn(5, 6), torch.randn(5, 6)
    dim = torch.tensor([0, 3, 1, 2, 3])
    actions = torch.nn.functional.one_hot(dim, 4).float()
    mixed = mixer(z_reference, z_command, actions)
    selected = torch.nn.functional.one_hot(dim, 6).bool()
    assert torch.equal(mixed[~selected], z_reference[~selected])
    assert torch.equal(mixed[selected], z_command[selected])
    with pytest.raises(ConfigError, match="at least the number of factors"):
        composer.FixedInterpolationMixer(num_latent=3, num_actions=4)


def test_unknown_mixer_is_a_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match=r"composer\.mixer.*'linear'"):
        composer.Composer(mixer="concat")


def test_kl_covers_both_codes_and_beta_weighs_it(configured):
    data = dsprites_procedural.ProceduralDSprites()
    model = _model("linear", data)
    model.beta = 3.0
    factors, reference = model.sample_batch(data, 4, np.random.RandomState(0), "cpu")
    torch.manual_seed(1)
    _, scalars = model.model_fn(reference, 0, factors=factors)
    from dlib_torch.methods.unsupervised import vae
    expected = sum(vae.compute_gaussian_kl(*model.gaussian_encoder(x)) for x in (reference, factors[0]))
    torch.testing.assert_close(scalars["kl_loss"], expected)
    torch.testing.assert_close(scalars["regularizer"], 3.0 * expected)
    torch.testing.assert_close(scalars["loss"], scalars["reconstruction_loss"] + 3.0 * expected)


def test_batches_are_training_triplets_of_the_view(configured):
    data = dsprites_procedural.ProceduralDSprites()
    train_side, _ = splits.held_out_split(data, "shape2tx")
    model = _model("linear", data)
    a = model.sample_batch(train_side, 6, np.random.RandomState(3), "cpu")
    b = model.sample_batch(train_side, 6, np.random.RandomState(3), "cpu")
    for x, y in zip(list(a[0]) + [a[1]], list(b[0]) + [b[1]]):
        assert torch.equal(x, y)


@pytest.mark.parametrize("mixer", ["linear", "mlp"])
def test_exported_composer_loads_without_the_package_and_matches(configured, tmp_path, mixer):
    data = dsprites_procedural.ProceduralDSprites()
    model = _model(mixer, data)
    model.eval()
    exported_modules.export_as_torchscript(model.exported_modules(), str(tmp_path))
    module = torch.jit.load(str(tmp_path / "composer.pt"))
    (command, actions, _), reference = model.sample_batch(data, 5, np.random.RandomState(0), "cpu")
    with torch.no_grad():
        expected, _, _ = model.compose(reference, command, actions, sample=False)
        torch.testing.assert_close(module(reference, command, actions), expected)
    assert (tmp_path / "gaussian_encoder.pt").exists() and (tmp_path / "decoder.pt").exists()


COMPOSER_TRAINING = ["dataset.name = 'dsprites_procedural'", "model.model = @composer()", "model.batch_size = 4",
                     "model.training_steps = 5", "model.eval_steps = 1", "model.random_seed = 0",
                     "encoder.num_latent = 4", "encoder.encoder_fn = @test_encoder",
                     "decoder.decoder_fn = @test_decoder", "reconstruction_loss.loss_fn = @bernoulli_loss",
                     "vae_optimizer.optimizer_fn = @AdamOptimizer"]


def _exported_state(model_dir, name):
    return torch.jit.load(os.path.join(model_dir, "exported", name)).state_dict()


def test_pretrained_vae_starts_the_composer_frozen_or_fine_tuned(tiny_model, tmp_path):
    from dlib_torch.methods.unsupervised import train
    vae_dir = tiny_model()
    pretrained = _exported_state(vae_dir, "gaussian_encoder.pt")
    frozen, tuned = str(tmp_path / "frozen"), str(tmp_path / "tuned")
    train.train_with_gin(frozen, False, [], COMPOSER_TRAINING + [
        "composer.pretrained_model_dir = '{}'".format(vae_dir), "composer.freeze_pretrained = True"])
    train.train_with_gin(tuned, False, [], COMPOSER_TRAINING + ["composer.pretrained_model_dir = '{}'".format(vae_dir)])
    for name, value in _exported_state(frozen, "gaussian_encoder.pt").items():
        assert torch.equal(value, pretrained[name]), name  # frozen: only the mixer trained
    assert any(not torch.equal(value, pretrained[name])
               for name, value in _exported_state(tuned, "gaussian_encoder.pt").items())


def test_pretrained_vae_of_another_architecture_is_a_config_error(tiny_model, tmp_path):
    from dlib_torch.methods.unsupervised import train
    with pytest.raises(ConfigError, match="does not fit the configured encoder"):
        train.train_with_gin(str(tmp_path / "m"), False, [], COMPOSER_TRAINING + [
            "encoder.num_latent = 7", "composer.pretrained_model_dir = '{}'".format(tiny_model())])


def test_a_composer_cannot_train_into_its_pretrained_vae(tiny_model):
    from dlib_torch.methods.unsupervised import train
    from dlib_torch.utils.errors import UserError
    vae_dir = tiny_model()
    with pytest.raises(UserError, match="contains the input"):
        train.train_with_gin(os.path.dirname(vae_dir), False, [], COMPOSER_TRAINING + [
            "composer.pretrained_model_dir = '{}'".format(vae_dir)])
    assert sorted(os.listdir(os.path.dirname(vae_dir))) == ["model"]
