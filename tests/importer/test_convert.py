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
