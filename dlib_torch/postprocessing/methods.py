"""Ways to turn a Gaussian encoder into a representation: its mean, or a sample (disentanglement_lib's methods).

A postprocessing function is called as `postprocess_fn(ground_truth_data, gaussian_encoder, random_state,
save_path)`, as in the reference, and returns a transform: an `nn.Module` called as
`transform(mean, logvar, noise)` -> representation [B, D] that TorchScript can compile. A transform may be
random only through `noise`, a standard normal tensor shaped like `mean` that it draws itself when given None;
it says so with a `uses_noise` attribute. (The reference returned a TF function and a checkpoint path; a
module carries its own parameters, so there is no checkpoint.)
"""
from typing import Optional

import gin
import torch
from torch import nn


class MeanTransform(nn.Module):
    """The representation is the mean of the Gaussian encoder."""

    uses_noise: bool = False

    def forward(self, mean: torch.Tensor, logvar: torch.Tensor, noise: Optional[torch.Tensor] = None):
        return mean


class SampledTransform(nn.Module):
    """The representation is a sample mean + exp(logvar / 2) * noise, with fresh noise on every call."""

    uses_noise: bool = True

    def forward(self, mean: torch.Tensor, logvar: torch.Tensor, noise: Optional[torch.Tensor] = None):
        if noise is None:
            noise = torch.randn_like(mean)
        return mean + torch.exp(logvar / 2) * noise


@gin.configurable("mean_representation", denylist=["ground_truth_data", "gaussian_encoder", "random_state"])
def mean_representation(ground_truth_data, gaussian_encoder, random_state, save_path):
    """Extracts the mean of the Gaussian encoder as the representation.

    Args:
      ground_truth_data: GroundTruthData the model was trained on (unused).
      gaussian_encoder: numpy images -> {"mean": ..., "logvar": ...} (unused).
      random_state: numpy RandomState seeded with `postprocess.random_seed` (unused).
      save_path: the postprocessing output directory (unused).

    Returns:
      The transform (mean, logvar, noise) -> mean.
    """
    del ground_truth_data, gaussian_encoder, random_state, save_path
    return MeanTransform()


@gin.configurable("sampled_representation", denylist=["ground_truth_data", "gaussian_encoder", "random_state"])
def sampled_representation(ground_truth_data, gaussian_encoder, random_state, save_path):
    """Extracts a sample of the Gaussian encoder as the representation, with fresh noise on every call.

    As in the reference, the noise is not controlled by `postprocess.random_seed` (the reference used a TF
    random op): the exported module draws it from torch's generator; `dtl_evaluate` seeds that generator with
    `evaluation.random_seed`.

    Args: as `mean_representation` (all unused).

    Returns:
      The transform (mean, logvar, noise) -> mean + exp(logvar / 2) * noise.
    """
    del ground_truth_data, gaussian_encoder, random_state, save_path
    return SampledTransform()
