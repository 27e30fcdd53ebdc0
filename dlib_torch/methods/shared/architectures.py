"""The encoders, decoders and discriminator of disentanglement_lib, as PyTorch modules.

Images are NHWC floats at the boundary, as in the reference: encoders take [B, H, W, C] and decoders return
logits [B, H, W, C]; the convolutions run in NCHW inside. Flattening and reshaping follow TF's NHWC order, so
the dense layers see their inputs in the reference's order. Kernels are Glorot-uniform and biases zero
(`tf.layers` defaults) unless `weight_init.scheme = 'pytorch'`.

The gin wrappers `encoder`, `decoder` and `discriminator` keep the reference's binding names
(`encoder.num_latent`, `encoder.encoder_fn`, `decoder.decoder_fn`, `discriminator.discriminator_fn`).
An `encoder_fn` is called as `encoder_fn(input_shape=[H, W, C], num_latent=K)` and returns a module
images -> (means, log_vars); a `decoder_fn` as `decoder_fn(num_latent=K, output_shape=[H, W, C])` returning
a module latents -> logits; a `discriminator_fn` as `discriminator_fn(num_latent=K)` returning a module
latents -> (logits, probs).
"""
import math

import gin
import torch
from torch import nn

from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError

LEAKY_RELU_SLOPE = 0.2  # tf.nn.leaky_relu's default (PyTorch's is 0.01)


@gin.configurable("encoder", allowlist=["num_latent", "encoder_fn"])
def make_gaussian_encoder(input_shape, num_latent=gin.REQUIRED, encoder_fn=gin.REQUIRED):
    """Builds the configured Gaussian encoder: images [B, H, W, C] -> (means, log_vars) [B, num_latent]."""
    num_latent = validation.check_int("encoder.num_latent", num_latent, minimum=1)
    module = encoder_fn(input_shape=list(input_shape), num_latent=num_latent)
    module.num_latent = num_latent
    return module


@gin.configurable("decoder", allowlist=["decoder_fn"])
def make_decoder(num_latent, output_shape, decoder_fn=gin.REQUIRED):
    """Builds the configured decoder: latents [B, num_latent] -> logits [B] + output_shape."""
    return decoder_fn(num_latent=num_latent, output_shape=list(output_shape))


@gin.configurable("discriminator", allowlist=["discriminator_fn"])
def make_discriminator(num_latent, discriminator_fn=gin.REQUIRED):
    """Builds the configured discriminator: latents -> (logits [B, 2], probs clipped to [1e-6, 1 - 1e-6])."""
    return ClippedDiscriminator(discriminator_fn(num_latent=num_latent))


@gin.configurable("weight_init", allowlist=["scheme"])
def weight_init_scheme(scheme="glorot_uniform"):
    """The initialisation of every layer: 'glorot_uniform' (the reference: TF's defaults) or 'pytorch'."""
    if scheme not in ("glorot_uniform", "pytorch"):
        raise ConfigError("weight_init.scheme must be 'glorot_uniform' or 'pytorch', not {!r}".format(scheme))
    return scheme


def initialize(module):
    """Re-initialises every dense and (transposed) convolution layer of `module` with the configured scheme."""
    if weight_init_scheme() != "glorot_uniform":
        return module
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(layer.weight)  # same fans as TF's kernels, for all three layer types
            nn.init.zeros_(layer.bias)
    return module


def _flatten_nhwc(x):
    """Flattens [B, H, W, C] (or any [B, ...]) in TF's row-major NHWC order."""
    return x.reshape(x.shape[0], -1)


class FCEncoder(nn.Module):
    """Dense encoder of the beta-VAE paper (Table 1, row 1): 1200-1200 ReLU, then means and log variances."""

    def __init__(self, input_shape, num_latent):
        super().__init__()
        self.e1 = nn.Linear(math.prod(input_shape), 1200)
        self.e2 = nn.Linear(1200, 1200)
        self.means = nn.Linear(1200, num_latent)
        self.log_var = nn.Linear(1200, num_latent)
        initialize(self)

    def forward(self, images):
        hidden = torch.relu(self.e2(torch.relu(self.e1(_flatten_nhwc(images)))))
        return self.means(hidden), self.log_var(hidden)


class ConvEncoder(nn.Module):
    """Convolutional encoder of the beta-VAE paper (Table 1, row 3), for 64x64 images.

    Conv 32 k4 s2, 32 k4 s2, 64 k2 s2, 64 k2 s2 (the reference's two k2 layers; TF 'same' padding is 1 for k4
    and 0 for k2 here), all ReLU, then dense 256 ReLU, then means and log variances.
    """

    def __init__(self, input_shape, num_latent):
        super().__init__()
        channels = input_shape[2]
        self.e1 = nn.Conv2d(channels, 32, kernel_size=4, stride=2, padding=1)
        self.e2 = nn.Conv2d(32, 32, kernel_size=4, stride=2, padding=1)
        self.e3 = nn.Conv2d(32, 64, kernel_size=2, stride=2, padding=0)
        self.e4 = nn.Conv2d(64, 64, kernel_size=2, stride=2, padding=0)
        spatial = (input_shape[0] // 16) * (input_shape[1] // 16)
        self.e5 = nn.Linear(64 * spatial, 256)
        self.means = nn.Linear(256, num_latent)
        self.log_var = nn.Linear(256, num_latent)
        initialize(self)

    def forward(self, images):
        x = images.permute(0, 3, 1, 2)
        x = torch.relu(self.e1(x))
        x = torch.relu(self.e2(x))
        x = torch.relu(self.e3(x))
        x = torch.relu(self.e4(x))
        hidden = torch.relu(self.e5(_flatten_nhwc(x.permute(0, 2, 3, 1))))
        return self.means(hidden), self.log_var(hidden)


class FCDecoder(nn.Module):
    """Dense decoder of the beta-VAE paper (Table 1, row 1): 1200 tanh x3, then one logit per pixel."""

    def __init__(self, num_latent, output_shape):
        super().__init__()
        self.output_shape = list(output_shape)
        self.d1 = nn.Linear(num_latent, 1200)
        self.d2 = nn.Linear(1200, 1200)
        self.d3 = nn.Linear(1200, 1200)
        self.d4 = nn.Linear(1200, math.prod(output_shape))
        initialize(self)

    def forward(self, latents):
        x = torch.tanh(self.d3(torch.tanh(self.d2(torch.tanh(self.d1(latents))))))
        return self.d4(x).reshape([-1] + self.output_shape)


class DeconvDecoder(nn.Module):
    """Deconvolutional decoder of the beta-VAE paper (Table 1, row 3), for 64x64 images.

    Dense 256 and 1024 ReLU, reshaped to [4, 4, 64] (NHWC), then transposed convs 64, 32, 32 (ReLU) and C
    (linear), all k4 s2 with TF 'same' padding (1 here).
    """

    def __init__(self, num_latent, output_shape):
        super().__init__()
        self.output_shape = list(output_shape)
        self.d1 = nn.Linear(num_latent, 256)
        self.d2 = nn.Linear(256, 1024)
        self.d3 = nn.ConvTranspose2d(64, 64, kernel_size=4, stride=2, padding=1)
        self.d4 = nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)
        self.d5 = nn.ConvTranspose2d(32, 32, kernel_size=4, stride=2, padding=1)
        self.d6 = nn.ConvTranspose2d(32, output_shape[2], kernel_size=4, stride=2, padding=1)
        initialize(self)

    def forward(self, latents):
        x = torch.relu(self.d2(torch.relu(self.d1(latents))))
        x = x.reshape(-1, 4, 4, 64).permute(0, 3, 1, 2)
        x = torch.relu(self.d3(x))
        x = torch.relu(self.d4(x))
        x = torch.relu(self.d5(x))
        x = self.d6(x)
        return x.permute(0, 2, 3, 1).reshape([-1] + self.output_shape)


class FCDiscriminator(nn.Module):
    """Discriminator of the FactorVAE paper (Appendix A): 6 dense layers of 1000, leaky ReLU 0.2, 2 logits."""

    def __init__(self, num_latent):
        super().__init__()
        sizes = [num_latent] + [1000] * 6
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.logits = nn.Linear(1000, 2)
        initialize(self)

    def forward(self, latents):
        x = _flatten_nhwc(latents)
        for layer in self.hidden:
            x = nn.functional.leaky_relu(layer(x), LEAKY_RELU_SLOPE)
        logits = self.logits(x)
        return logits, torch.softmax(logits, dim=1)


class ClippedDiscriminator(nn.Module):
    """Applies a discriminator and clips its probabilities to [1e-6, 1 - 1e-6], as the reference does."""

    def __init__(self, discriminator):
        super().__init__()
        self.discriminator = discriminator

    def forward(self, latents):
        logits, probs = self.discriminator(latents)
        return logits, probs.clamp(1e-6, 1 - 1e-6)


class TestEncoder(nn.Module):
    """Tiny encoder for tests: two dense maps of the flattened image to means and log variances."""

    __test__ = False  # not a pytest test class

    def __init__(self, input_shape, num_latent):
        super().__init__()
        self.e1 = nn.Linear(math.prod(input_shape), num_latent)
        self.e2 = nn.Linear(math.prod(input_shape), num_latent)
        initialize(self)

    def forward(self, images):
        flat = _flatten_nhwc(images)
        return self.e1(flat), self.e2(flat)


class TestDecoder(nn.Module):
    """Tiny decoder for tests: one dense map to the logits."""

    __test__ = False

    def __init__(self, num_latent, output_shape):
        super().__init__()
        self.output_shape = list(output_shape)
        self.d1 = nn.Linear(num_latent, math.prod(output_shape))
        initialize(self)

    def forward(self, latents):
        return self.d1(latents).reshape([-1] + self.output_shape)


@gin.configurable("fc_encoder", allowlist=[])
def fc_encoder(input_shape, num_latent):
    """Dense encoder of the beta-VAE paper for dSprites (Higgins et al., https://openreview.net/forum?id=Sy2fzU9gl)."""
    return FCEncoder(input_shape, num_latent)


@gin.configurable("conv_encoder", allowlist=[])
def conv_encoder(input_shape, num_latent):
    """Convolutional encoder of the beta-VAE paper (the reference's default)."""
    return ConvEncoder(input_shape, num_latent)


@gin.configurable("fc_decoder", allowlist=[])
def fc_decoder(num_latent, output_shape):
    """Dense decoder of the beta-VAE paper for dSprites."""
    return FCDecoder(num_latent, output_shape)


@gin.configurable("deconv_decoder", allowlist=[])
def deconv_decoder(num_latent, output_shape):
    """Deconvolutional decoder of the beta-VAE paper (the reference's default)."""
    return DeconvDecoder(num_latent, output_shape)


@gin.configurable("fc_discriminator", allowlist=[])
def fc_discriminator(num_latent):
    """Discriminator of FactorVAE (Kim & Mnih, https://arxiv.org/abs/1802.05983)."""
    return FCDiscriminator(num_latent)


@gin.configurable("test_encoder", allowlist=["num_latent"])
def test_encoder(input_shape, num_latent):
    """Tiny encoder for tests (the reference also exposes `test_encoder.num_latent`)."""
    return TestEncoder(input_shape, num_latent)


@gin.configurable("test_decoder", allowlist=[])
def test_decoder(num_latent, output_shape):
    """Tiny decoder for tests."""
    return TestDecoder(num_latent, output_shape)


# Named like tests by the reference; tell pytest they are not, should a test module import them by name.
test_encoder.__test__ = False
test_decoder.__test__ = False

# Registers Montero et al.'s architectures (@higgins_decoder, @burgess_encoder, ...) with the reference's.
from dlib_torch.methods.shared import paper_architectures  # noqa: E402,F401 pylint: disable=unused-import
