"""Training checkpoints that let a run continue bit for bit: parameters, optimizer slots, every RNG, step.

One file, `<model_dir>/checkpoints/latest.pt`, replaced atomically (a reader or a crash sees the old file or
the new one, never half of one), as the reference kept only its latest TF checkpoint. Its SHA-256 is written
beside it (`latest.pt.sha256`) and checked before a resume, so a damaged checkpoint (a flipped bit still loads)
is named instead of trained on; a checkpoint of an older version without the digest has its zip CRCs checked.
"""
import io
import os
import random

import numpy as np
import torch

from dlib_torch.utils import exported_modules
from dlib_torch.utils.errors import UserError

CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_FILE = "latest.pt"
CHECKPOINT_KEYS = ("global_step", "elapsed_time", "num_threads", "config_fingerprint", "model", "optimizers", "rng")


def checkpoint_path(model_dir):
    """Path of the latest checkpoint of a model directory."""
    return os.path.join(model_dir, CHECKPOINT_DIR, CHECKPOINT_FILE)


def _numpy_state_to_plain(state):
    name, keys, position, has_gauss, cached_gaussian = state
    return [name, keys.tolist(), int(position), int(has_gauss), float(cached_gaussian)]


def _plain_to_numpy_state(plain):
    name, keys, position, has_gauss, cached_gaussian = plain
    return name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached_gaussian


def capture_rng_states(data_random_state):
    """The state of every random number generator the training consumes (plain types, loadable safely)."""
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy_data": _numpy_state_to_plain(data_random_state.get_state()),
        "numpy_global": _numpy_state_to_plain(np.random.get_state()),
        "python": random.getstate(),
    }


def restore_rng_states(states, data_random_state):
    """Puts every generator back in the captured state (CUDA only when present on both sides)."""
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    data_random_state.set_state(_plain_to_numpy_state(states["numpy_data"]))
    np.random.set_state(_plain_to_numpy_state(states["numpy_global"]))
    random.setstate(states["python"])


def save(path, model, optimizers, data_random_state, global_step, elapsed_time, config_fingerprint, extra=None):
    """Writes a checkpoint atomically; `extra` (plain lists, dicts, numbers, strings) is the caller's own
    progress, read back as `state["extra"]` (dtl_reason keeps its per-iteration records there)."""
    state = {
        "global_step": int(global_step),
        "elapsed_time": float(elapsed_time),
        "num_threads": torch.get_num_threads(),  # CPU results are bitwise reproducible for a fixed thread count
        "config_fingerprint": config_fingerprint,
        "model": model.state_dict(),
        "optimizers": [optimizer.state_dict() for optimizer in optimizers],
        "rng": capture_rng_states(data_random_state),
        "extra": extra,
    }
    save_state(path, state)


def save_state(path, state):
    """Writes any torch-serialisable `state` atomically with its digest beside it (serialised in memory
    first: torch's zip writer aborts the process on a full disk)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    exported_modules.save_with_digest(path, buffer.getvalue())


def load_state(path):
    """Reads a file of `save_state` after checking its digest; a damaged one is a one-line UserError."""
    exported_modules.verify_digest(path, "checkpoint", DAMAGED_FIX)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises RuntimeError, EOFError, pickle errors, ... for damaged files
        raise UserError("checkpoint {} is damaged ({}); {}".format(
            path, " ".join(str(e).split())[:160] or type(e).__name__, DAMAGED_FIX)) from None


DAMAGED_FIX = "delete it to restart training from step 0, or restore it"


def load(path, device):
    """Reads a checkpoint (tensors mapped to `device`; RNG states stay on the CPU).

    A file that cannot be read as a checkpoint, or whose bytes differ from its recorded digest, is a one-line
    UserError naming it: a damaged checkpoint is never silently replaced by a fresh start, which would throw
    the run's work away, nor trained on.
    """
    state = load_state(path)
    missing = [key for key in CHECKPOINT_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise UserError("checkpoint {} is damaged (it lacks {}); {}".format(path, ", ".join(missing), DAMAGED_FIX))
    state["model"] = {k: v.to(device) for k, v in state["model"].items()}
    return state


def restore(state, model, optimizers, data_random_state):
    """Loads a checkpoint's parameters, optimizer slots and RNG states into a freshly built model."""
    model.load_state_dict(state["model"])
    for optimizer, optimizer_state in zip(optimizers, state["optimizers"]):
        optimizer.load_state_dict(optimizer_state)
    restore_rng_states(state["rng"], data_random_state)
