"""Tests of dlib_torch/methods/shared/paper_architectures.py: shapes, layer sizes, gin names."""
import gin
import pytest
import torch

from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import paper_architectures as paper


@pytest.mark.parametrize("encoder_fn,decoder_fn", [(paper.higgins_encoder, paper.higgins_decoder),
                                                   (paper.burgess_encoder, paper.burgess_decoder),
                                                   (paper.burgess_v2_encoder, paper.burgess_v2_decoder)])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_nhwc_in_and_out(encoder_fn, decoder_fn, channels):
    encoder = encoder_fn(input_shape=[64, 64, channels], num_latent=7)
    decoder = decoder_fn(num_latent=7, output_shape=[64, 64, channels])
    means, log_vars = encoder(torch.rand(3, 64, 64, channels))
    assert means.shape == log_vars.shape == (3, 7)
    assert decoder(means).shape == (3, 64, 64, channels)
    torch.jit.script(encoder), torch.jit.script(decoder)  # exportable as DESIGN §3 asks


def test_higgins_decoder_is_the_papers_mlp():
    decoder = paper.higgins_decoder(num_latent=5, output_shape=[64, 64, 1])
    linears = [m for m in decoder.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(5, 1200), (1200, 1200), (1200, 1200),
                                                                  (1200, 4096)]
    assert sum(isinstance(m, torch.nn.Tanh) for m in decoder.modules()) == 3


def test_burgess_layers():
    encoder = paper.burgess_encoder(input_shape=[64, 64, 1], num_latent=10)
    convs = [m for m in encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in convs] == [32, 32, 32, 32] and all(m.kernel_size == (4, 4) for m in convs)
    assert [m.out_features for m in encoder.modules() if isinstance(m, torch.nn.Linear)] == [256, 256, 20]
    v2 = paper.burgess_v2_encoder(input_shape=[64, 64, 1], num_latent=10)
    assert [m.out_channels for m in v2.modules() if isinstance(m, torch.nn.Conv2d)] == [32, 32, 64, 64]


def test_selected_through_the_reference_gin_names():
    gin.clear_config()
    try:
        gin.parse_config(["encoder.num_latent = 4", "encoder.encoder_fn = @burgess_encoder",
                          "decoder.decoder_fn = @higgins_decoder"])
        assert isinstance(architectures.make_gaussian_encoder([64, 64, 1]), paper.BurgessEncoder)
        assert isinstance(architectures.make_decoder(4, [64, 64, 1]), paper.HigginsDecoder)
    finally:
        gin.clear_config()


def test_pytorch_default_initialisation_within_the_block_only():
    torch.manual_seed(0)
    default = paper.higgins_decoder(num_latent=5, output_shape=[8, 8, 1])
    torch.manual_seed(0)
    with paper.pytorch_default_initialisation():
        kept = paper.higgins_decoder(num_latent=5, output_shape=[8, 8, 1])
    torch.manual_seed(0)
    fresh = torch.nn.Linear(5, 1200)
    assert torch.equal(kept.layers[0].weight, fresh.weight)
    assert not torch.equal(default.layers[0].weight, fresh.weight)  # Kaiming-uniform outside the block
    torch.manual_seed(0)
    assert torch.equal(paper.higgins_decoder(num_latent=5, output_shape=[8, 8, 1]).layers[0].weight,
                       default.layers[0].weight)
