"""The exported representation module, `postprocessed/<name>/exported/representation.pt` (DESIGN §3).

It loads with plain `torch.jit.load` and maps images [B, H, W, C] in [0, 1] to codes [B, D]. Besides
`forward`, it exports the pieces the evaluation's code cache needs, so that the cache can store the encoder's
Gaussian once per observation and apply the transform (with its noise) on lookup:
  gaussian_encoder(images) -> (mean, logvar)        the trained model's encoder;
  from_gaussian(mean, logvar, noise) -> codes        the postprocessing transform (noise None: drawn inside);
  uses_noise                                         whether the transform is random.
A ground-truth decoder has no encoder; its representation is its own input, the scaled factors, exported as a
module whose `from_factors(factors)` gives the codes and whose `forward` raises (images cannot be mapped).
"""
from typing import Optional
from typing import Tuple

import torch
from torch import nn

from dlib_torch.data.ground_truth import factor_scaling
from dlib_torch.utils import exported_modules


class GaussianRepresentation(nn.Module):
    """images -> transform(mean, logvar, noise) of a Gaussian encoder."""

    uses_noise: bool

    def __init__(self, encoder, transform):
        super().__init__()
        self.encoder = encoder
        self.transform = transform
        self.uses_noise = bool(getattr(transform, "uses_noise", False))

    def forward(self, images):
        mean, logvar = self.encoder(images)
        return self.transform(mean, logvar, None)

    @torch.jit.export
    def gaussian_encoder(self, images) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, logvar = self.encoder(images)
        return mean, logvar

    @torch.jit.export
    def from_gaussian(self, mean: torch.Tensor, logvar: torch.Tensor, noise: Optional[torch.Tensor]) -> torch.Tensor:
        return self.transform(mean, logvar, noise)


class FactorRepresentation(nn.Module):
    """The representation of a ground-truth decoder: factor indices scaled to [0, 1], as its input."""

    uses_noise: bool

    def __init__(self, factors_num_values):
        super().__init__()
        self.uses_noise = False
        self.register_buffer("factor_scale", torch.from_numpy(factor_scaling.factor_scales(factors_num_values)))

    def forward(self, images):
        raise RuntimeError("a ground-truth decoder has no image encoder: its representation is defined on factors "
                           "(call from_factors); dtl_evaluate handles this for you")

    @torch.jit.export
    def from_factors(self, factors: torch.Tensor) -> torch.Tensor:
        return factors.to(self.factor_scale.dtype) * self.factor_scale


def save(module, path):
    """Compiles `module` with TorchScript and saves it to `path` atomically, with its digest."""
    compiled = torch.jit.script(module.cpu().eval())
    exported_modules.save(compiled, path)
