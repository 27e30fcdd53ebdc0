"""How a training run executes, without changing its results: `training_runtime` (device, checkpoint and report
intervals, threads, prefetch, data on the device, torch.compile)."""
import contextlib
import dataclasses
from typing import Optional, Union

import gin

from dlib_torch.training import loop
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError

MAX_PREFETCH_BATCHES = 64  # training_runtime.prefetch_batches' upper bound: each batch waits in memory


@dataclasses.dataclass
class RuntimeSettings:
    """The `training_runtime` settings of a run."""
    device: str
    checkpoint_every_steps: int
    checkpoint_every_minutes: float
    log_every_steps: int
    num_threads: Optional[int] = None
    prefetch_batches: Union[int, str] = "auto"
    data_on_device: Union[bool, str] = "auto"
    compile: bool = False


@gin.configurable("training_runtime")
def training_runtime(device="auto", checkpoint_every_steps=5000, checkpoint_every_minutes=10.0,
                     log_every_steps=100, num_threads=None, prefetch_batches="auto", data_on_device="auto",
                     compile=False):  # pylint: disable=redefined-builtin (the gin name)
    """How a run executes, without changing its results: the device ('auto' = CUDA when available),
    checkpoints every `checkpoint_every_steps` global steps and every `checkpoint_every_minutes` minutes
    (TF's default interval), a progress report every `log_every_steps` global steps (the reference's 100),
    `num_threads` CPU threads (None: what the process may use, see utils/threads.py; CPU results are bitwise
    reproducible for a fixed thread count, so a resumed run keeps its checkpoint's count when it may),
    `prefetch_batches` batches drawn ahead by a background thread (0: off; 'auto': 2 on CUDA, 0 on the CPU;
    see prefetch.py), and `data_on_device` (True, False or 'auto': on CUDA when the data set is a stored image
    array taking at most half the free GPU memory) to hold the whole image set on the device (batches.py),
    and `compile`: the model's networks through `torch.compile` during the loop (see `compiled_networks`).
    """
    return RuntimeSettings(
        validation.check_string("training_runtime.device", device),
        validation.check_int("training_runtime.checkpoint_every_steps", checkpoint_every_steps, minimum=1),
        validation.check_float("training_runtime.checkpoint_every_minutes", checkpoint_every_minutes, minimum=0),
        validation.check_int("training_runtime.log_every_steps", log_every_steps, minimum=1),
        None if num_threads is None else validation.check_int("training_runtime.num_threads", num_threads,
                                                              minimum=1),
        _auto_or("training_runtime.prefetch_batches", prefetch_batches,
                 lambda name, value: validation.check_int(name, value, minimum=0, maximum=MAX_PREFETCH_BATCHES),
                 "an integer >= 0 and <= {}".format(MAX_PREFETCH_BATCHES)),
        _auto_or("training_runtime.data_on_device", data_on_device, validation.check_bool, "True or False"),
        validation.check_bool("training_runtime.compile", compile))


@contextlib.contextmanager
def compiled_networks(model, enabled):
    """Within the block (the training loop), each network of `model` (its child modules: encoder, decoder,
    discriminator, ...) runs its forward and backward through `torch.compile` (inductor; on the CPU it needs a
    C++ compiler), when `enabled`.

    `nn.Module.compile` compiles in place, so parameter names, checkpoints and resume stay as in eager runs,
    and the model's own step (its losses, the noise it draws from torch's generator, the optimizers' foreach
    updates) stays eager, so a compiled run draws the eager run's noise and differs from it only by the
    rounding of fused kernels. Export and the final evaluation run the eager networks again.
    Measured on the CPU (README, Benchmarks): no faster than eager, as convolutions take 3/4 of the step.
    """
    if not enabled:
        yield
        return
    # pylint: disable-next=import-outside-toplevel (only compiled runs need it)
    from torch._functorch import config as functorch_config
    networks = list(model.children())
    for network in networks:
        network.compile()
    try:
        # Models with two objectives on one forward pass (FactorVAE) call backward with retain_graph=True,
        # which compiled backward functions with donated buffers refuse.
        with functorch_config.patch(donated_buffer=False):
            yield
    finally:
        for network in networks:
            network._compiled_call_impl = None  # pylint: disable=protected-access (undoes nn.Module.compile)


def _auto_or(name, value, check, allowed):
    """'auto', or a value `check(name, value)` accepts; a refusal names both."""
    if isinstance(value, str) and value == "auto":
        return value
    try:
        return check(name, value)
    except ConfigError:
        raise ConfigError("{} = {!r} is not allowed; it must be 'auto' or {}".format(name, value, allowed)) from None


def schedule(runtime):
    """The loop.Schedule of a run's settings."""
    return loop.Schedule(runtime.checkpoint_every_steps, runtime.checkpoint_every_minutes, runtime.log_every_steps)
