"""The ground-truth decoder's initialisation (dlib_torch/methods/unsupervised/gt_decoder.py): in the paper's
setting its network keeps PyTorch's default initialisation, as the paper's `init_decoder`; its VAEs keep Kaiming."""
import math

import gin
import pytest
import torch
from torch import nn

from dlib_torch.data.ground_truth import factor_names
from dlib_torch.methods.unsupervised import gt_decoder
from dlib_torch.methods.unsupervised import vae

DSPRITES_SIZES = [3, 6, 40, 32, 32]


pytestmark = pytest.mark.usefixtures("clean_gin")


def _linears(module):
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


@pytest.mark.parametrize("inputs", ["raw", "scaled"])
def test_the_papers_ground_truth_decoder_keeps_pytorchs_default_initialisation(inputs):
    gin.parse_config(["decoder.decoder_fn = @higgins_decoder"])
    torch.manual_seed(3)
    model = gt_decoder.GroundTruthDecoder(inputs=inputs).build([64, 64, 1], DSPRITES_SIZES, factor_names.DSPRITES)
    torch.manual_seed(3)
    fresh = nn.Linear(len(DSPRITES_SIZES), 1200)  # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    first = _linears(model.decoder)[0]
    assert torch.equal(first.weight, fresh.weight) and torch.equal(first.bias, fresh.bias)
    for layer in _linears(model.decoder):  # every layer within PyTorch's default bound, none Kaiming's
        assert float(layer.weight.abs().max()) <= 1 / math.sqrt(layer.in_features)


def test_the_vaes_higgins_decoder_keeps_the_papers_kaiming_initialisation():
    gin.parse_config(["encoder.num_latent = 5", "encoder.encoder_fn = @higgins_encoder",
                      "decoder.decoder_fn = @higgins_decoder"])
    torch.manual_seed(3)
    model = vae.BetaVAE(beta=1.).build([64, 64, 1])
    for layer in _linears(model.decoder):
        bound = math.sqrt(6 / layer.in_features)  # kaiming_uniform with ReLU gain
        largest = float(layer.weight.abs().max())
        assert 1 / math.sqrt(layer.in_features) < largest <= bound
