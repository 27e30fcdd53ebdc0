"""Tests of dlib_torch/training/optimizers.py: the reference's optimizers_test, TF's Adam, gin names."""
import math

import gin
import pytest
import torch

from dlib_torch.training import optimizers


@pytest.fixture(autouse=True)
def _clear_gin():
    gin.clear_config()
    yield
    gin.clear_config()


@pytest.mark.parametrize("bindings, expected_learning_rate", [
    (["vae_optimizer.optimizer_fn = @GradientDescentOptimizer", "GradientDescentOptimizer.learning_rate = 0.1"], 0.1),
    (["vae_optimizer.optimizer_fn = @GradientDescentOptimizer", "vae_optimizer.learning_rate = 0.1"], 0.1),
    (["vae_optimizer.optimizer_fn = @GradientDescentOptimizer", "vae_optimizer.learning_rate = @piecewise_constant",
      "piecewise_constant.boundaries = (3, 5)", "piecewise_constant.values = (0.2, 0.1, 0.01)"], 0.01),
    (["vae_optimizer.optimizer_fn = @GradientDescentOptimizer", "vae_optimizer.learning_rate = @exponential_decay",
      "exponential_decay.learning_rate = 0.1", "exponential_decay.decay_steps = 1",
      "exponential_decay.decay_rate = 0.9"], 0.03486784401),
])
def test_vae_optimizer_learning_rates_after_ten_steps(bindings, expected_learning_rate):
    gin.parse_config(bindings)
    x = torch.zeros((), requires_grad=True)
    optimizer = optimizers.make_vae_optimizer([x])
    learning_rates = []
    for global_step in range(10):
        optimizer.zero_grad()
        (x + 2.0).pow(2).backward()
        previous = float(x.detach())
        learning_rates.append(optimizer.learning_rate_at(global_step))
        optimizer.step(global_step)
        assert float(x.detach()) == pytest.approx(previous - learning_rates[-1] * 2 * (previous + 2))
    assert optimizer.learning_rate_at(10) == pytest.approx(expected_learning_rate)


def test_piecewise_constant_switches_after_each_boundary():
    values = [optimizers.piecewise_constant(step, boundaries=[3, 5], values=[0.2, 0.1, 0.01]) for step in range(8)]
    assert values == [0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0.01, 0.01]


def test_exponential_decay_staircase():
    assert optimizers.exponential_decay(0.1, 25, decay_steps=10, decay_rate=0.5, staircase=True) == 0.1 * 0.25
    assert optimizers.exponential_decay(0.1, 25, decay_steps=10, decay_rate=0.5) == pytest.approx(0.1 * 0.5 ** 2.5)


def test_tf_adam_follows_tensorflow_update_rule():
    lr, beta1, beta2, eps = 0.1, 0.9, 0.999, 1e-3
    x = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    adam = optimizers.TFAdam([x], lr=lr, betas=(beta1, beta2), eps=eps)
    value, m, v = 1.0, 0.0, 0.0
    for t in range(1, 4):
        adam.zero_grad()
        (x ** 3).sum().backward()
        g = 3 * value ** 2
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        value -= lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t) * m / (math.sqrt(v) + eps)
        adam.step()
        assert float(x.detach()) == pytest.approx(value, rel=1e-12)


def test_tf_adam_equals_torch_adam_without_epsilon():
    torch.manual_seed(0)
    a = torch.randn(5, requires_grad=True)
    b = a.detach().clone().requires_grad_(True)
    ours = optimizers.TFAdam([a], lr=0.01, betas=(0.5, 0.9), eps=0.0)
    theirs = torch.optim.Adam([b], lr=0.01, betas=(0.5, 0.9), eps=0.0)
    for _ in range(5):
        for p, opt in [(a, ours), (b, theirs)]:
            opt.zero_grad()
            (p.sin() * 3).sum().backward()
            opt.step()
    torch.testing.assert_close(a, b)


def test_reference_shared_gin_optimizer_bindings_parse_unchanged():
    gin.parse_config("""
        vae_optimizer.optimizer_fn = @vae/AdamOptimizer
        discriminator_optimizer.optimizer_fn = @discriminator/AdamOptimizer
        vae/AdamOptimizer.beta1 = 0.9
        vae/AdamOptimizer.beta2 = 0.999
        vae/AdamOptimizer.epsilon = 1e-08
        vae/AdamOptimizer.learning_rate = 0.0001
        vae/AdamOptimizer.name = 'Adam'
        vae/AdamOptimizer.use_locking = False
        discriminator/AdamOptimizer.beta1 = 0.5
        discriminator/AdamOptimizer.beta2 = 0.9
        discriminator/AdamOptimizer.epsilon = 1e-08
        discriminator/AdamOptimizer.name = 'Adam'
        discriminator/AdamOptimizer.use_locking = False
        discriminator/AdamOptimizer.learning_rate = 0.0001
    """)
    x = torch.zeros(1, requires_grad=True)
    vae_group = optimizers.make_vae_optimizer([x]).torch_optimizer.param_groups[0]
    discriminator_group = optimizers.make_discriminator_optimizer([x]).torch_optimizer.param_groups[0]
    assert (vae_group["lr"], vae_group["betas"], vae_group["eps"]) == (0.0001, (0.9, 0.999), 1e-08)
    assert (discriminator_group["lr"], discriminator_group["betas"]) == (0.0001, (0.5, 0.9))


def test_tf_module_names_resolve_too():
    gin.parse_config(["vae_optimizer.optimizer_fn = @tf.train.AdamOptimizer",
                      "vae_optimizer.learning_rate = @tf.train.exponential_decay",
                      "tf.train.exponential_decay.learning_rate = 0.5", "exponential_decay.decay_steps = 2",
                      "exponential_decay.decay_rate = 0.5"])
    optimizer = optimizers.make_vae_optimizer([torch.zeros(1, requires_grad=True)])
    assert optimizer.learning_rate_at(4) == pytest.approx(0.125)
