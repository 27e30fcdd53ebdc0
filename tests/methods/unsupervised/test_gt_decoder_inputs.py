"""Tests of gt_decoder.inputs (dlib_torch/methods/unsupervised/gt_decoder.py) and the raw factor values."""
import gin
import numpy as np
import pytest
import torch

from dlib_torch.data.ground_truth import factor_names
from dlib_torch.data.ground_truth import factor_scaling
from dlib_torch.data.ground_truth import factor_values
from dlib_torch.methods.unsupervised import gt_decoder
from dlib_torch.utils.errors import ConfigError


def test_dsprites_raw_values_are_the_published_latents_values():
    values = factor_values.raw_factor_values(factor_names.DSPRITES, [3, 6, 40, 32, 32])
    np.testing.assert_allclose(values[0], [1, 2, 3])
    np.testing.assert_allclose(values[1], np.linspace(0.5, 1, 6))
    assert values[2][-1] == pytest.approx(2 * np.pi)
    np.testing.assert_allclose(values[4], np.linspace(0, 1, 32))
    mpi = factor_values.raw_factor_values(factor_names.MPI3D, [6, 6, 2, 3, 3, 40, 40])
    assert mpi[5][39] == 39 * 40  # the paper's x * lat_sizes, kept as it ran
    np.testing.assert_array_equal(factor_values.raw_factor_values(["a", "b"], [2, 3])[1], [0, 1, 2])


@pytest.fixture
def decoder_bindings():
    gin.clear_config()
    gin.parse_config(["decoder.decoder_fn = @higgins_decoder"])
    yield
    gin.clear_config()


def test_raw_inputs_reach_the_network_and_the_export_still_takes_scaled_factors(decoder_bindings):
    sizes = [3, 6, 40, 32, 32]
    model = gt_decoder.GroundTruthDecoder(inputs="raw").build([64, 64, 1], sizes, factor_names.DSPRITES)
    lookup, network = model.decoder[0], model.decoder[1]
    factors = np.array([[0, 5, 39, 31, 0], [2, 0, 10, 16, 3]])
    scaled = torch.from_numpy(factor_scaling.scaled_factor_inputs(factors, sizes))
    raw = lookup(scaled)
    expected = [[1, 1.0, 2 * np.pi, 1.0, 0.0], [3, 0.5, 10 * 2 * np.pi / 39, 16 / 31, 3 / 31]]
    np.testing.assert_allclose(raw.numpy(), expected, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(model.decoder(scaled), network(raw))
    torch.jit.script(model.decoder)  # the exported decoder.pt keeps its input: scaled factors


def test_scaled_is_the_default_and_unknown_inputs_are_refused(decoder_bindings):
    model = gt_decoder.GroundTruthDecoder().build([64, 64, 1], [3, 4])
    assert not isinstance(model.decoder, torch.nn.Sequential)
    with pytest.raises(ConfigError, match="gt_decoder.inputs"):
        gt_decoder.GroundTruthDecoder(inputs="onehot")
