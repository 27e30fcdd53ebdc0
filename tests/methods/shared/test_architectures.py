"""Tests of dlib_torch/methods/shared/architectures.py: shapes, NHWC order, the reference's initialisation."""
import math

import gin
import numpy as np
import pytest
import torch

from dlib_torch.methods.shared import architectures


@pytest.fixture(autouse=True)
def _clear_gin():
    gin.clear_config()
    yield
    gin.clear_config()


@pytest.mark.parametrize("encoder_fn", [architectures.fc_encoder, architectures.conv_encoder,
                                        architectures.test_encoder])
@pytest.mark.parametrize("channels", [1, 3])
def test_encoders_map_nhwc_images_to_means_and_log_variances(encoder_fn, channels):
    encoder = encoder_fn(input_shape=[64, 64, channels], num_latent=10)
    means, log_vars = encoder(torch.ones(10, 64, 64, channels))
    assert means.shape == (10, 10) and log_vars.shape == (10, 10)


@pytest.mark.parametrize("decoder_fn", [architectures.fc_decoder, architectures.deconv_decoder,
                                        architectures.test_decoder])
@pytest.mark.parametrize("channels", [1, 3])
def test_decoders_map_latents_to_nhwc_logits(decoder_fn, channels):
    decoder = decoder_fn(num_latent=15, output_shape=[64, 64, channels])
    assert decoder(torch.ones(10, 15)).shape == (10, 64, 64, channels)


def test_conv_encoder_has_the_reference_layer_shapes():
    encoder = architectures.conv_encoder(input_shape=[64, 64, 1], num_latent=10)
    shapes = {}
    for name in ["e1", "e2", "e3", "e4"]:
        getattr(encoder, name).register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, o.shape))
    encoder(torch.zeros(2, 64, 64, 1))
    assert [tuple(shapes[n][1:]) for n in ["e1", "e2", "e3", "e4"]] == [(32, 32, 32), (32, 16, 16), (64, 8, 8),
                                                                         (64, 4, 4)]
    assert encoder.e3.kernel_size == (2, 2) and encoder.e4.kernel_size == (2, 2)
    assert encoder.e5.in_features == 1024 and encoder.e5.out_features == 256


def test_dense_layers_flatten_in_tf_nhwc_order():
    encoder = architectures.fc_encoder(input_shape=[4, 5, 3], num_latent=2)
    image = torch.zeros(1, 4, 5, 3)
    image[0, 2, 1, 2] = 1.0  # pixel (h=2, w=1), channel 2
    with torch.no_grad():
        first_layer = encoder.e1(image.reshape(1, -1))
        expected = encoder.e1.weight[:, 2 * 5 * 3 + 1 * 3 + 2] + encoder.e1.bias
    torch.testing.assert_close(first_layer[0], expected)


def test_deconv_decoder_reshapes_dense_output_as_nhwc_4x4x64():
    decoder = architectures.deconv_decoder(num_latent=3, output_shape=[64, 64, 1])
    captured = {}
    decoder.d3.register_forward_hook(lambda m, i, o: captured.__setitem__("input", i[0]))
    with torch.no_grad():
        latents = torch.randn(2, 3)
        decoder(latents)
        dense = torch.relu(decoder.d2(torch.relu(decoder.d1(latents))))
    # NHWC element (h, w, c) of the reshaped dense output is dense[h * 256 + w * 64 + c].
    torch.testing.assert_close(captured["input"][:, 5, 1, 2], dense[:, 1 * 256 + 2 * 64 + 5])


def test_discriminator_gives_logits_and_clipped_probabilities():
    gin.parse_config("discriminator.discriminator_fn = @fc_discriminator")
    discriminator = architectures.make_discriminator(10)
    with torch.no_grad():
        for layer in discriminator.discriminator.hidden:
            layer.weight.mul_(100.0)  # saturate the softmax
        logits, probs = discriminator(torch.randn(32, 10) * 10)
    assert logits.shape == (32, 2) and probs.shape == (32, 2)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(32), atol=2e-6, rtol=0)
    assert bool(probs.min() >= torch.tensor(1e-6)) and bool(probs.max() <= torch.tensor(1 - 1e-6))
    assert bool(probs.min() < 1e-5)  # saturated, so the clip did the work


def test_fc_discriminator_uses_leaky_relu_with_slope_0_2():
    discriminator = architectures.fc_discriminator(num_latent=1)
    with torch.no_grad():
        for layer in list(discriminator.hidden) + [discriminator.logits]:
            layer.weight.zero_()
            layer.bias.zero_()
        discriminator.hidden[0].weight[0, 0] = 1.0
        for layer in discriminator.hidden[1:]:
            layer.weight[0, 0] = 1.0
        discriminator.logits.weight[0, 0] = 1.0
        logits, _ = discriminator(torch.tensor([[-1.0]]))
    assert float(logits[0, 0]) == pytest.approx(-(0.2 ** 6))


def test_kernels_are_glorot_uniform_and_biases_zero_by_default():
    torch.manual_seed(0)
    encoder = architectures.conv_encoder(input_shape=[64, 64, 1], num_latent=10)
    decoder = architectures.deconv_decoder(num_latent=10, output_shape=[64, 64, 1])
    for layer, fan_in, fan_out in [(encoder.e5, 1024, 256), (encoder.e1, 16, 16 * 32), (decoder.d1, 10, 256),
                                   (decoder.d4, 16 * 64, 16 * 32)]:
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        weights = layer.weight.detach().numpy()
        assert np.abs(weights).max() <= limit
        assert np.abs(weights).max() > 0.9 * limit  # uniform over the whole range
        assert np.std(weights) == pytest.approx(limit / math.sqrt(3), rel=0.15)
        assert np.all(layer.bias.detach().numpy() == 0)


def test_weight_init_scheme_pytorch_keeps_pytorch_defaults():
    gin.parse_config("weight_init.scheme = 'pytorch'")
    encoder = architectures.fc_encoder(input_shape=[8, 8, 1], num_latent=3)
    assert np.any(encoder.e1.bias.detach().numpy() != 0)
    assert float(encoder.e1.weight.detach().abs().max()) <= 1 / math.sqrt(64)  # PyTorch's kaiming_uniform(a=sqrt(5))


def test_encoder_and_decoder_wrappers_read_the_reference_gin_names():
    gin.parse_config(["encoder.num_latent = 7", "encoder.encoder_fn = @conv_encoder",
                      "decoder.decoder_fn = @deconv_decoder"])
    encoder = architectures.make_gaussian_encoder([64, 64, 3])
    decoder = architectures.make_decoder(encoder.num_latent, [64, 64, 3])
    means, _ = encoder(torch.zeros(2, 64, 64, 3))
    assert means.shape == (2, 7) and encoder.num_latent == 7
    assert decoder(means).shape == (2, 64, 64, 3)
