"""The exported TorchScript modules of DESIGN §3, and running them on numpy batches.

  <model_dir>/exported/gaussian_encoder.pt   images [B,H,W,C] in [0,1] -> (mean, logvar) [B, num_latent]
  <model_dir>/exported/decoder.pt            latents [B, num_latent] -> image logits [B,H,W,C]
  <model_dir>/exported/composer.pt           (reference, command, action [B, num_factors]) -> logits (a Composer)
  <postprocessed_dir>/exported/representation.pt   images -> [B, D]
They load with plain `torch.jit.load`, without dlib_torch installed.

Beside each export, `<file>.sha256` holds the SHA-256 of its bytes, written at export time. `load` refuses a
module whose bytes no longer match (a damaged file can still load and produce numbers), and checks the
zip archive's CRCs where no digest was recorded.
"""
import copy
import hashlib
import io
import os
import warnings
import zipfile

import numpy as np
import torch

from dlib_torch.utils import atomic
from dlib_torch.utils import manifest
from dlib_torch.utils.errors import UserError

DIGEST_SUFFIX = ".sha256"
GAUSSIAN_ENCODER = "gaussian_encoder.pt"
DECODER = "decoder.pt"
REPRESENTATION = "representation.pt"
COMPOSER = "composer.pt"


def exported_path(directory, name):
    """Path of an exported module inside a stage directory (`model/` or `postprocessed/<name>/`)."""
    return os.path.join(directory, "exported", name)


def export_as_torchscript(modules, export_dir):
    """Saves each module of {file name: (module, example input)} as TorchScript in `export_dir`, atomically.

    Modules are scripted on the CPU (traced on the example input if a user's module cannot be scripted);
    the files load with plain `torch.jit.load`, without dlib_torch.
    """
    atomic.makedirs(export_dir)
    for file_name, (module, example_input) in modules.items():
        module = copy.deepcopy(module).cpu().eval()
        for parameter in module.parameters():
            parameter.requires_grad_(False)
        with warnings.catch_warnings():
            # TorchScript is the export format DESIGN §3 promises; recent torch versions call it deprecated.
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                compiled = torch.jit.script(module)
            except Exception:  # TorchScript rejects some Python; tracing records the operations instead
                compiled = torch.jit.trace(module, example_input.cpu())
        save(compiled, os.path.join(export_dir, file_name))


def save(scripted_module, path):
    """Saves a TorchScript module atomically, then the SHA-256 of its bytes beside it."""
    buffer = io.BytesIO()  # serialised in memory: torch's zip writer aborts the process on a full disk
    with warnings.catch_warnings():
        # TorchScript is the export format DESIGN §3 promises; recent torch versions call it deprecated.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(scripted_module, buffer)
    save_with_digest(path, buffer.getvalue())


def save_with_digest(path, data):
    """Writes `data` to `path` atomically, then its SHA-256 to `<path>.sha256`."""
    atomic.write_bytes(path, data)
    atomic.write_text(path + DIGEST_SUFFIX, hashlib.sha256(data).hexdigest() + "\n")


def file_digest(path):
    """Hex SHA-256 of a file's bytes."""
    return manifest.file_sha256(path)


def verify_digest(path, what, fix):
    """Raises a one-line UserError if the file at `path` (`what`, e.g. 'exported module') is missing, or its
    bytes differ from the SHA-256 recorded beside it, or (where none was recorded) its zip CRCs fail.
    `fix` says the ways forward."""
    if not os.path.exists(path):
        raise UserError("{} {} is missing; {}".format(what, path, fix))
    digest_path = path + DIGEST_SUFFIX
    if os.path.exists(digest_path):
        with open(digest_path, encoding="utf-8", errors="replace") as f:
            recorded = f.read().strip()
        actual = file_digest(path)
        if actual != recorded:
            raise UserError("{} {} is damaged: its SHA-256 is {} but {} was recorded when it was written; "
                            "{}".format(what, path, actual, recorded[:64], fix))
        return
    try:
        with zipfile.ZipFile(path) as archive:
            bad_member = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise UserError("{} {} is damaged ({}); {}".format(what, path, " ".join(str(e).split())[:120], fix)
                        ) from None
    if bad_member is not None:
        raise UserError("{} {} is damaged (checksum error in {}); {}".format(what, path, bad_member, fix))


def verify(path):
    """Raises a one-line UserError if the exported module at `path` is missing or damaged."""
    verify_digest(path, "exported module", "restore it or rerun the stage that wrote it with --overwrite")


def load(path, device="cpu"):
    """Loads a TorchScript module in eval mode on `device`, after checking its bytes (see `verify`)."""
    verify(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(path, map_location=device)
    except (RuntimeError, ValueError) as e:
        raise UserError("exported module {} cannot be loaded ({}); restore it or rerun the stage that wrote it "
                        "with --overwrite".format(path, " ".join(str(e).split())[:200])) from None
    module.eval()
    return module


def numpy_function(module, device="cpu", batch_size=1024):
    """Wraps a module as numpy [B, ...] -> numpy (or a tuple of numpy), evaluated in chunks of `batch_size`."""
    device = torch.device(device)

    def apply(inputs):
        inputs = np.asarray(inputs, dtype=np.float32)
        outputs = []
        with torch.no_grad():
            for start in range(0, max(len(inputs), 1), batch_size):
                chunk = torch.from_numpy(inputs[start:start + batch_size]).to(device)
                out = module(chunk)
                out = out if isinstance(out, (tuple, list)) else (out,)
                outputs.append([o.detach().cpu().numpy() for o in out])
        merged = [np.concatenate(parts, axis=0) for parts in zip(*outputs)]
        return merged[0] if len(merged) == 1 else tuple(merged)

    return apply
