"""The exported TorchScript modules of DESIGN §3, and running them on numpy batches.

  <model_dir>/exported/gaussian_encoder.pt   images [B,H,W,C] in [0,1] -> (mean, logvar) [B, num_latent]
  <model_dir>/exported/decoder.pt            latents [B, num_latent] -> image logits [B,H,W,C]
  <model_dir>/exported/composer.pt           (reference, command, action [B, num_factors]) -> logits (a Composer)
  <postprocessed_dir>/exported/representation.pt   images -> [B, D]
They load with plain `torch.jit.load`, without dlib_torch installed.
"""
import os

import numpy as np
import torch

GAUSSIAN_ENCODER = "gaussian_encoder.pt"
DECODER = "decoder.pt"
REPRESENTATION = "representation.pt"
COMPOSER = "composer.pt"


def exported_path(directory, name):
    """Path of an exported module inside a stage directory (`model/` or `postprocessed/<name>/`)."""
    return os.path.join(directory, "exported", name)


def load(path, device="cpu"):
    """Loads a TorchScript module in eval mode on `device`."""
    module = torch.jit.load(path, map_location=device)
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
