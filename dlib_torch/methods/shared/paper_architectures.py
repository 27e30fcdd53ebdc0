"""The encoders and decoders of Montero et al., "The Role of Disentanglement in Generalisation" (ICLR 2021), as
their code defines them (`scripts/configs/cnnvae.py`, `scripts/configs/decoders.py`; notes §3.1-3.2).

  @higgins_encoder / @higgins_decoder   MLP 1200-1200 ReLU / 1200-1200-1200 tanh (the dSprites ground-truth
                                        decoder of the paper is @higgins_decoder on the raw factor values)
  @burgess_encoder / @burgess_decoder   conv 32x4 (k4 s2 p1) -> FC 256 -> FC 256, and its transpose
  @burgess_v2_encoder / @burgess_v2_decoder   conv 32, 32, 64, 64 -> FC 256 -> FC 256 (the composition runs)

The encoders end in one dense layer of 2 * num_latent outputs split into (means, log variances), as the paper's
LGM; the conv decoders are the encoders transposed (ReLU after every layer but the last), as its code builds
them. In the VAEs, weights use the paper's initialisation (`weights_init`, which its `LGM.reset_parameters`
applies: Kaiming-uniform kernels for ReLU, PyTorch's default biases), not the reference's Glorot-uniform. Built for
the ground-truth decoder (gt_decoder.py, within `pytorch_default_initialisation`), they keep PyTorch's default
initialisation, as the paper's `init_decoder`, which never calls `weights_init`. Same interface as `architectures`
(NHWC images at the boundary).
"""
import contextlib
import contextvars
import math

import gin
from torch import nn

_paper_initialisation = contextvars.ContextVar("paper_initialisation", default=True)


@contextlib.contextmanager
def pytorch_default_initialisation():
    """Within the block, the architectures here keep PyTorch's default initialisation (the paper's ground-truth
    decoder's); outside it they get the paper's `weights_init` (its VAEs')."""
    token = _paper_initialisation.set(False)
    try:
        yield
    finally:
        _paper_initialisation.reset(token)


def paper_initialize(module):
    """The paper's `weights_init`: Kaiming-uniform (ReLU gain) kernels of every dense and conv layer; nothing
    within `pytorch_default_initialisation`."""
    if not _paper_initialisation.get():
        return module
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
    return module


def _gaussian_head(hidden_size, num_latent):
    return nn.Linear(hidden_size, 2 * num_latent)


class HigginsEncoder(nn.Module):
    """Flattened image -> 1200 ReLU -> 1200 ReLU -> (means, log variances)."""

    def __init__(self, input_shape, num_latent):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(math.prod(input_shape), 1200), nn.ReLU(),
                                    nn.Linear(1200, 1200), nn.ReLU())
        self.head = _gaussian_head(1200, num_latent)
        paper_initialize(self)

    def forward(self, images):
        means, log_vars = self.head(self.hidden(images.reshape(images.shape[0], -1))).chunk(2, dim=1)
        return means, log_vars


class HigginsDecoder(nn.Module):
    """Inputs -> 1200 tanh -> 1200 tanh -> 1200 tanh -> one logit per pixel."""

    def __init__(self, num_latent, output_shape):
        super().__init__()
        self.output_shape = list(output_shape)
        self.layers = nn.Sequential(nn.Linear(num_latent, 1200), nn.Tanh(), nn.Linear(1200, 1200), nn.Tanh(),
                                    nn.Linear(1200, 1200), nn.Tanh(), nn.Linear(1200, math.prod(output_shape)))
        paper_initialize(self)

    def forward(self, latents):
        return self.layers(latents).reshape([-1] + self.output_shape)


class BurgessEncoder(nn.Module):
    """Four k4 s2 p1 convolutions (ReLU), then FC 256, FC 256 (ReLU), then (means, log variances)."""

    def __init__(self, input_shape, num_latent, channels=(32, 32, 32, 32)):
        super().__init__()
        sizes = [input_shape[2]] + list(channels)
        layers = []
        for c_in, c_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Conv2d(c_in, c_out, kernel_size=4, stride=2, padding=1), nn.ReLU()]
        self.convolutions = nn.Sequential(*layers)
        flat = channels[-1] * (input_shape[0] // 16) * (input_shape[1] // 16)
        self.dense = nn.Sequential(nn.Linear(flat, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU())
        self.head = _gaussian_head(256, num_latent)
        paper_initialize(self)

    def forward(self, images):
        x = self.convolutions(images.permute(0, 3, 1, 2))
        means, log_vars = self.head(self.dense(x.flatten(1))).chunk(2, dim=1)
        return means, log_vars


class BurgessDecoder(nn.Module):
    """The encoder transposed: FC 256, 256, flat (ReLU), then four k4 s2 p1 transposed convolutions."""

    def __init__(self, num_latent, output_shape, channels=(32, 32, 32, 32)):
        super().__init__()
        self.output_shape = list(output_shape)
        self.start = [channels[-1], output_shape[0] // 16, output_shape[1] // 16]
        self.dense = nn.Sequential(nn.Linear(num_latent, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                   nn.Linear(256, math.prod(self.start)), nn.ReLU())
        sizes = list(reversed(channels)) + [output_shape[2]]
        layers = []
        for c_in, c_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, kernel_size=4, stride=2, padding=1), nn.ReLU()]
        self.deconvolutions = nn.Sequential(*layers[:-1])  # no ReLU after the logits
        paper_initialize(self)

    def forward(self, latents):
        x = self.dense(latents).reshape([-1] + self.start)
        return self.deconvolutions(x).permute(0, 2, 3, 1).reshape([-1] + self.output_shape)


BURGESS_V2_CHANNELS = (32, 32, 64, 64)


@gin.configurable("higgins_encoder", allowlist=[])
def higgins_encoder(input_shape, num_latent):
    """The paper's MLP encoder (`higgins`)."""
    return HigginsEncoder(input_shape, num_latent)


@gin.configurable("higgins_decoder", allowlist=[])
def higgins_decoder(num_latent, output_shape):
    """The paper's MLP decoder (`higgins`), also its dSprites ground-truth decoder (then with PyTorch's default
    initialisation, see the module docstring)."""
    return HigginsDecoder(num_latent, output_shape)


@gin.configurable("burgess_encoder", allowlist=[])
def burgess_encoder(input_shape, num_latent):
    """The paper's `burgess` conv encoder."""
    return BurgessEncoder(input_shape, num_latent)


@gin.configurable("burgess_decoder", allowlist=[])
def burgess_decoder(num_latent, output_shape):
    """The transpose of the paper's `burgess` encoder."""
    return BurgessDecoder(num_latent, output_shape)


@gin.configurable("burgess_v2_encoder", allowlist=[])
def burgess_v2_encoder(input_shape, num_latent):
    """The paper's `burgess_v2` conv encoder (its composition runs)."""
    return BurgessEncoder(input_shape, num_latent, BURGESS_V2_CHANNELS)


@gin.configurable("burgess_v2_decoder", allowlist=[])
def burgess_v2_decoder(num_latent, output_shape):
    """The transpose of the paper's `burgess_v2` encoder."""
    return BurgessDecoder(num_latent, output_shape, BURGESS_V2_CHANNELS)
