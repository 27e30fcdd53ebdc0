"""Tests of dlib_torch/methods/shared/losses.py against hand-computed values."""
import math

import gin
import pytest
import torch

from dlib_torch.methods.shared import losses
from dlib_torch.utils.errors import ConfigError


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def _images(value, shape=(2, 4, 4, 1)):
    return torch.full(shape, value)


def test_bernoulli_loss_with_logits_is_the_summed_cross_entropy():
    loss = losses.bernoulli_loss(_images(0.3), _images(0.5), "logits")
    p = _sigmoid(0.5)
    expected = -16 * (0.3 * math.log(p) + 0.7 * math.log(1 - p))
    torch.testing.assert_close(loss, torch.full((2,), expected))


def test_bernoulli_loss_with_tanh_squashes_and_clips():
    p = math.tanh(0.5) / 2 + 0.5
    loss = losses.bernoulli_loss(_images(0.3), _images(0.5), "tanh")
    torch.testing.assert_close(loss, torch.full((2,), -16 * (0.3 * math.log(p) + 0.7 * math.log(1 - p))))
    # tanh(50) / 2 + 0.5 rounds to 1, clipped to 1 - 1e-6: a wrong black pixel costs -log(1e-6) each.
    saturated = losses.bernoulli_loss(_images(0.0), _images(50.0), "tanh")
    torch.testing.assert_close(saturated, torch.full((2,), -16 * math.log(1e-6)), rtol=1e-3, atol=0)


def test_bernoulli_loss_minus_true_image_entropy_is_zero_for_a_perfect_reconstruction():
    true = torch.tensor([0.2, 0.5, 0.9, 0.0]).reshape(1, 2, 2, 1)
    logits = torch.logit(true.clamp(1e-6, 1 - 1e-6))
    loss = losses.bernoulli_loss(true, logits, "logits", subtract_true_image_entropy=True)
    torch.testing.assert_close(loss, torch.zeros(1), atol=1e-4, rtol=0)


def test_l2_loss_sums_squared_errors_of_the_squashed_output():
    torch.testing.assert_close(losses.l2_loss(_images(0.3), _images(0.5), "logits"),
                               torch.full((2,), 16 * (0.3 - _sigmoid(0.5)) ** 2))
    torch.testing.assert_close(losses.l2_loss(_images(0.3), _images(0.5), "tanh"),
                               torch.full((2,), 16 * (0.3 - (math.tanh(0.5) / 2 + 0.5)) ** 2))


@pytest.mark.parametrize("loss_fn", [losses.bernoulli_loss, losses.l2_loss])
def test_unknown_activation_is_a_config_error(loss_fn):
    with pytest.raises(ConfigError, match="activation"):
        loss_fn(_images(0.3), _images(0.5), "relu")


def test_reconstruction_loss_applies_the_configured_loss_and_activation():
    gin.clear_config()
    try:
        gin.parse_config(["reconstruction_loss.loss_fn = @l2_loss", "reconstruction_loss.activation = 'tanh'"])
        torch.testing.assert_close(losses.make_reconstruction_loss(_images(0.3), _images(0.5)),
                                   losses.l2_loss(_images(0.3), _images(0.5), "tanh"))
    finally:
        gin.clear_config()
