"""Our modules, loaded from the reference's own TF variables, compute what TensorFlow computed (within 1e-5)."""
import os

import numpy as np
import pytest
import torch

from dlib_torch.importer import convert
from dlib_torch.importer import tf_bundle
from dlib_torch.utils.errors import UserError

FIXTURE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "tf_conv_model")

SPEC = convert.ModelSpec("conv_encoder", "deconv_decoder", 10)


def _bundle():
    return tf_bundle.open_bundle(FIXTURE_DIR + "/model.ckpt-0")


def test_conv_encoder_and_deconv_decoder_match_tensorflow(tf_outputs):
    expected = tf_outputs
    encoder, decoder, observation_shape = convert.convert(_bundle(), SPEC, "fixture")
    assert observation_shape == [64, 64, 1]
    with torch.no_grad():
        means, log_vars = encoder(torch.from_numpy(expected["images"]))
        logits = decoder(torch.from_numpy(expected["latents"]))
        reconstruction_logits = decoder(means)
    np.testing.assert_allclose(means.numpy(), expected["means"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(log_vars.numpy(), expected["log_vars"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(logits.numpy(), expected["logits"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(reconstruction_logits.numpy(), expected["reconstruction_logits"], rtol=0, atol=1e-5)
    assert np.abs(expected["logits"]).max() > 0.1  # the comparison is not between near-zero outputs


class _Variables:
    """A bundle's interface over a dict, to remove or reshape one variable of the real fixture."""

    def __init__(self, arrays):
        self.arrays = arrays

    def names(self):
        return sorted(self.arrays)

    def __contains__(self, name):
        return name in self.arrays

    def shape(self, name):
        return self.arrays[name].shape

    def read(self, name):
        return self.arrays[name]


def _variables():
    bundle = _bundle()
    return {name: bundle.read(name) for name in bundle.names()}


def test_a_missing_variable_is_named():
    arrays = _variables()
    del arrays["decoder/conv2d_transpose_2/bias"]
    with pytest.raises(UserError, match=r"fixture: variable decoder/conv2d_transpose_2/bias is missing"):
        convert.convert(_Variables(arrays), SPEC, "fixture")


def test_variables_inside_an_outer_scope_are_found(tf_outputs):
    arrays = {"module/" + name: value for name, value in _variables().items()}
    encoder, _, _ = convert.convert(_Variables(arrays), SPEC, "fixture")
    with torch.no_grad():
        means, _ = encoder(torch.from_numpy(tf_outputs["images"]))
    np.testing.assert_allclose(means.numpy(), tf_outputs["means"], rtol=0, atol=1e-5)


def test_a_variable_of_the_wrong_shape_is_named():
    arrays = _variables()
    arrays["encoder/means/kernel"] = np.zeros((256, 12), np.float32)
    with pytest.raises(UserError, match=r"variable encoder/means/kernel has shape \[256, 12\], but @conv_encoder "
                                        r"needs \[256, 10\]"):
        convert.convert(_Variables(arrays), SPEC, "fixture")


def test_the_architecture_comes_from_train_gin():
    config = {"encoder.encoder_fn": "@fc_encoder", "decoder.decoder_fn": "@fc_decoder", "encoder.num_latent": "6",
              "reconstruction_loss.activation": "'tanh'"}
    spec = convert.model_spec(config, "train.gin")
    assert (spec.encoder_fn, spec.decoder_fn, spec.num_latent, spec.activation) == ("fc_encoder", "fc_decoder", 6,
                                                                                    "tanh")
    with pytest.raises(UserError, match=r"variable encoder/e1/kernel has shape \[4, 4, 1, 32\], not \[64 \* 64 \* "
                                        r"channels, units\] as @fc_encoder needs"):  # conv variables, fc train.gin
        convert.convert(_bundle(), spec, "fixture")
    with pytest.raises(UserError, match=r"encoder.encoder_fn = @my_encoder cannot be imported; supported: "
                                        r"@conv_encoder, @fc_encoder, @test_encoder"):
        convert.model_spec(dict(config, **{"encoder.encoder_fn": "@my_encoder"}), "train.gin")
    with pytest.raises(UserError, match="train.gin binds no decoder.decoder_fn"):
        convert.model_spec({"encoder.encoder_fn": "@conv_encoder"}, "train.gin")


def _dense(x, kernel, bias, activation=None):
    """tf.layers.dense's arithmetic in numpy: x @ kernel + bias with the kernel in TF's [in, out] layout."""
    y = x @ kernel + bias
    return activation(y) if activation else y


def test_dense_networks_follow_tf_layers_semantics():
    """fc_encoder/fc_decoder (no TF fixture: their 64x64 kernels are large) against numpy's tf.layers.dense."""
    random_state = np.random.RandomState(0)
    sizes = {"encoder/e1": (64 * 64 * 3, 1200), "encoder/e2": (1200, 1200), "encoder/dense": (1200, 5),
             "encoder/dense_1": (1200, 5), "decoder/dense": (5, 1200), "decoder/dense_1": (1200, 1200),
             "decoder/dense_2": (1200, 1200), "decoder/dense_3": (1200, 64 * 64 * 3)}
    arrays = {}
    for layer, (n_in, n_out) in sizes.items():
        arrays[layer + "/kernel"] = (random_state.normal(size=(n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
        arrays[layer + "/bias"] = random_state.normal(scale=0.1, size=n_out).astype(np.float32)
    arrays["discriminator/d1/kernel"] = np.zeros((5, 1000), np.float32)  # FactorVAE's: ignored
    spec = convert.ModelSpec("fc_encoder", "fc_decoder", 5)
    encoder, decoder, observation_shape = convert.convert(_Variables(arrays), spec, "fc")
    assert observation_shape == [64, 64, 3]
    images = random_state.uniform(size=(3, 64, 64, 3)).astype(np.float32)
    latents = random_state.normal(size=(3, 5)).astype(np.float32)
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    hidden = _dense(_dense(images.reshape(3, -1), arrays["encoder/e1/kernel"], arrays["encoder/e1/bias"], relu),
                    arrays["encoder/e2/kernel"], arrays["encoder/e2/bias"], relu)
    x = latents
    for layer in ("dense", "dense_1", "dense_2"):
        x = _dense(x, arrays["decoder/{}/kernel".format(layer)], arrays["decoder/{}/bias".format(layer)], np.tanh)
    logits = _dense(x, arrays["decoder/dense_3/kernel"], arrays["decoder/dense_3/bias"]).reshape(3, 64, 64, 3)
    with torch.no_grad():
        means, log_vars = encoder(torch.from_numpy(images))
        ours = decoder(torch.from_numpy(latents))
    np.testing.assert_allclose(means.numpy(), _dense(hidden, arrays["encoder/dense/kernel"],
                                                     arrays["encoder/dense/bias"]), rtol=0, atol=1e-4)
    np.testing.assert_allclose(log_vars.numpy(), _dense(hidden, arrays["encoder/dense_1/kernel"],
                                                        arrays["encoder/dense_1/bias"]), rtol=0, atol=1e-4)
    np.testing.assert_allclose(ours.numpy(), logits, rtol=0, atol=1e-4)


class _Declared(_Variables):
    """The fixture's variables with some shapes declared otherwise (a hostile archive's index)."""

    def __init__(self, arrays, shapes):
        super().__init__(arrays)
        self.shapes = shapes

    def shape(self, name):
        return self.shapes.get(name, self.arrays[name].shape)


def test_hostile_declared_shapes_are_refused_before_anything_is_built():
    arrays = _variables()
    with pytest.raises(UserError, match=r"encoder/e1/kernel declares 1000000000 image channels; the reference's "
                                        r"images have 1 or 3"):
        convert.convert(_Declared(arrays, {"encoder/e1/kernel": (4, 4, 10**9, 32)}), SPEC, "fixture")
    with pytest.raises(UserError, match=r"variable encoder/e5/kernel has shape \[1099511627776, 256\]"):
        convert.convert(_Declared(arrays, {"encoder/e5/kernel": (1 << 40, 256)}), SPEC, "fixture")


@pytest.mark.parametrize("value", ["-3", "0", "1000000000000"])
def test_a_hostile_latent_size_is_refused(value):
    config = {"encoder.encoder_fn": "@conv_encoder", "decoder.decoder_fn": "@deconv_decoder",
              "encoder.num_latent": value}
    with pytest.raises(UserError, match="is not a latent size this importer builds"):
        convert.model_spec(config, "train.gin")
