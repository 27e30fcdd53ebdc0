"""Optimizers configured as in disentanglement_lib's gin files.

`vae_optimizer.optimizer_fn = @vae/AdamOptimizer` and `vae/AdamOptimizer.beta1 = 0.9` parse unchanged: the
gin configurables `AdamOptimizer` and `GradientDescentOptimizer` take TensorFlow's parameter names
(`use_locking` and `name` are accepted and ignored). `AdamOptimizer` follows TF's update rule, which adds
epsilon to sqrt(v) before the bias correction (PyTorch's Adam adds it after); the two differ only through
epsilon. `vae_optimizer.learning_rate` / `discriminator_optimizer.learning_rate` override the optimizer's
rate and may be a schedule of the global step (`@exponential_decay`, `@piecewise_constant`).
"""
import math

import gin
import torch

from dlib_torch.utils import validation


class Optimizer:
    """A torch optimizer and, optionally, its learning rate as a function of the global step."""

    def __init__(self, torch_optimizer, learning_rate_fn=None):
        self.torch_optimizer = torch_optimizer
        self.learning_rate_fn = learning_rate_fn
        self.parameters = [p for group in torch_optimizer.param_groups for p in group["params"]]

    def zero_grad(self):
        self.torch_optimizer.zero_grad(set_to_none=True)

    def step(self, global_step):
        """Applies the gradients with the learning rate at `global_step` (TF reads it before incrementing)."""
        if self.learning_rate_fn is not None:
            learning_rate = self.learning_rate_at(global_step)
            for group in self.torch_optimizer.param_groups:
                group["lr"] = learning_rate
        self.torch_optimizer.step()

    def learning_rate_at(self, global_step):
        """The learning rate used at `global_step`: the schedule's value, or the optimizer's constant rate."""
        if self.learning_rate_fn is None:
            return self.torch_optimizer.param_groups[0]["lr"]
        return float(self.learning_rate_fn(global_step=global_step))

    def state_dict(self):
        return self.torch_optimizer.state_dict()

    def load_state_dict(self, state):
        self.torch_optimizer.load_state_dict(state)


class TFAdam(torch.optim.Optimizer):
    """Adam with TensorFlow's update: p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        assert closure is None, "TFAdam does not take a closure"
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            beta1, beta2 = group["betas"]
            grads = [p.grad for p in params]
            states = [self.state[p] for p in params]
            for p, state in zip(params, states):
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["v"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
            step = states[0]["step"]
            step_size = group["lr"] * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            ms = [s["m"] for s in states]
            vs = [s["v"] for s in states]
            torch._foreach_lerp_(ms, grads, 1 - beta1)
            torch._foreach_mul_(vs, beta2)
            torch._foreach_addcmul_(vs, grads, grads, value=1 - beta2)
            denominators = torch._foreach_sqrt(vs)
            torch._foreach_add_(denominators, group["eps"])
            torch._foreach_addcdiv_(params, ms, denominators, value=-step_size)


@gin.configurable("AdamOptimizer", module="tf.train")
class AdamOptimizer:
    """TF's `tf.train.AdamOptimizer` parameters; `create(parameters)` returns the torch optimizer."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08, use_locking=False,
                 name="Adam"):
        del use_locking, name  # TF graph options without a PyTorch meaning
        self.learning_rate = validation.check_float("AdamOptimizer.learning_rate", learning_rate, minimum=0,
                                                    minimum_inclusive=False)
        self.betas = (validation.check_float("AdamOptimizer.beta1", beta1, minimum=0, maximum=1),
                      validation.check_float("AdamOptimizer.beta2", beta2, minimum=0, maximum=1))
        self.epsilon = validation.check_float("AdamOptimizer.epsilon", epsilon, minimum=0)

    def create(self, parameters):
        return TFAdam(parameters, lr=self.learning_rate, betas=self.betas, eps=self.epsilon)


@gin.configurable("GradientDescentOptimizer", module="tf.train")
class GradientDescentOptimizer:
    """TF's `tf.train.GradientDescentOptimizer` parameters; `create(parameters)` returns torch SGD."""

    def __init__(self, learning_rate=gin.REQUIRED, use_locking=False, name="GradientDescent"):
        del use_locking, name
        self.learning_rate = validation.check_float("GradientDescentOptimizer.learning_rate", learning_rate,
                                                    minimum=0, minimum_inclusive=False)

    def create(self, parameters):
        return torch.optim.SGD(parameters, lr=self.learning_rate)


@gin.configurable("exponential_decay", module="tf.train")
def exponential_decay(learning_rate=gin.REQUIRED, global_step=0, decay_steps=gin.REQUIRED, decay_rate=gin.REQUIRED,
                      staircase=False, name=None):
    """TF's `exponential_decay`: learning_rate * decay_rate ** (global_step / decay_steps), floored if staircase."""
    del name
    exponent = global_step / decay_steps
    if staircase:
        exponent = math.floor(exponent)
    return learning_rate * decay_rate ** exponent


@gin.configurable("piecewise_constant", module="tf.train")
def piecewise_constant(global_step=0, boundaries=gin.REQUIRED, values=gin.REQUIRED, name=None):
    """TF's `piecewise_constant`: values[i] while boundaries[i-1] < global_step <= boundaries[i]."""
    del name
    if len(values) != len(boundaries) + 1:
        raise ValueError("piecewise_constant needs one more value than boundaries")
    for boundary, value in zip(boundaries, values):
        if global_step <= boundary:
            return value
    return values[-1]


def make_optimizer(optimizer_fn, learning_rate, parameters):
    """Creates `optimizer_fn`'s optimizer over `parameters`; a set `learning_rate` overrides its rate.

    A callable `learning_rate` is a schedule, evaluated at every step with the global step.
    """
    parameters = list(parameters)
    if learning_rate is None:
        return Optimizer(optimizer_fn().create(parameters))
    if callable(learning_rate):
        return Optimizer(optimizer_fn(learning_rate=learning_rate(global_step=0)).create(parameters), learning_rate)
    return Optimizer(optimizer_fn(learning_rate=learning_rate).create(parameters))


@gin.configurable("vae_optimizer", denylist=["parameters"])
def make_vae_optimizer(parameters, optimizer_fn=gin.REQUIRED, learning_rate=None):
    """The optimizer of the VAE's encoder and decoder (`vae_optimizer.optimizer_fn`, `.learning_rate`)."""
    return make_optimizer(optimizer_fn, learning_rate, parameters)


@gin.configurable("discriminator_optimizer", denylist=["parameters"])
def make_discriminator_optimizer(parameters, optimizer_fn=gin.REQUIRED, learning_rate=None):
    """The optimizer of FactorVAE's discriminator (`discriminator_optimizer.optimizer_fn`, `.learning_rate`)."""
    return make_optimizer(optimizer_fn, learning_rate, parameters)
