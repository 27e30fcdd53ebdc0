"""Choosing the torch device: CUDA when present, else the CPU; overridable by name."""
import torch

from dlib_torch.utils.errors import ConfigError


def select_device(name="auto"):
    """`auto` picks cuda when available, else cpu; any other name ('cpu', 'cuda', 'cuda:1') is used as is."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ConfigError("unknown device {!r}: {}".format(name, e)) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device {!r} was asked for but CUDA is not available; use 'cpu' or 'auto'".format(name))
    return device
