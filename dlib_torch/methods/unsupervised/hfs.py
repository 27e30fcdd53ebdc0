"""Hausdorff Factorized Support (Roth et al., "Disentanglement of Correlated Factors via Hausdorff Factorized
Support", ICLR 2023, https://arxiv.org/abs/2210.07347): a regulariser that asks the *support* of the codes to be the
product of the per-dimension supports, so correlated factors may still be encoded on separate dimensions.

For posterior means z [B, D] and a pair (a, b) of latent dimensions, the factorized support is every combination
(z[k, a], z[l, b]) of the batch's values (B^2 points); its Hausdorff distance to the batch's own points (z[m, a],
z[m, b]) is the largest, over factorized points, squared distance to the nearest batch point. The regulariser is
gamma times the sum of that distance over `num_latent_pairs` pairs drawn anew each step. This is the authors'
default in their code (facebookresearch/disentangling-correlated-factors, `factorizedsupportvae`:
matching='hausdorff_hard', factorized_support_estimation='full', latent_select='pair', num_latent_pairs=25,
scale regulariser delta=0). Attach it to a model with `vae.hfs = @hfs()` or `beta_tc_vae.hfs = @hfs()`.
"""
import itertools

import gin
import torch

from dlib_torch.utils import validation


def hausdorff_factorized_support(z, pairs):
    """Sum over `pairs` [P, 2] (latent index pairs) of the squared Hausdorff distance from the factorized support
    of z [B, D] on that pair to z's own points on it; a scalar tensor."""
    pairs = torch.as_tensor(pairs, dtype=torch.long, device=z.device)
    values_a, values_b = z[:, pairs[:, 0]].T, z[:, pairs[:, 1]].T  # [P, B]
    # Squared differences along each axis: [P, B (factorized index), B (batch point)].
    distance_a = (values_a.unsqueeze(2) - values_a.unsqueeze(1)).square()
    distance_b = (values_b.unsqueeze(2) - values_b.unsqueeze(1)).square()
    # Factorized point (k, l) to batch point m: distance_a[k, m] + distance_b[l, m]; nearest m, farthest (k, l).
    nearest = (distance_a.unsqueeze(2) + distance_b.unsqueeze(1)).amin(dim=3)  # [P, B, B]
    return nearest.flatten(1).amax(dim=1).sum()


@gin.configurable("hfs")
class HausdorffFactorizedSupport:
    """The HFS regulariser on posterior means: gamma * hausdorff_factorized_support(z_mean, random pairs)."""

    def __init__(self, gamma=gin.REQUIRED, num_latent_pairs=25):
        """`gamma`: weight of the regulariser; `num_latent_pairs`: pairs of latent dimensions drawn (without
        replacement, from torch's global generator) at each step, at most all D(D-1)/2 pairs."""
        self.gamma = validation.check_float("hfs.gamma", gamma, minimum=0)
        self.num_latent_pairs = validation.check_int("hfs.num_latent_pairs", num_latent_pairs, minimum=1)

    def draw_pairs(self, num_latent, device):
        """`min(num_latent_pairs, D(D-1)/2)` distinct pairs of latent dimensions, [P, 2]."""
        all_pairs = torch.tensor(list(itertools.combinations(range(num_latent), 2)), dtype=torch.long)
        if len(all_pairs) == 0:
            return all_pairs.reshape(0, 2).to(device)
        chosen = torch.randperm(len(all_pairs))[:min(self.num_latent_pairs, len(all_pairs))]
        return all_pairs[chosen].to(device)

    def __call__(self, z_mean):
        pairs = self.draw_pairs(z_mean.shape[1], z_mean.device)
        if len(pairs) == 0:
            return z_mean.new_zeros(())
        return self.gamma * hausdorff_factorized_support(z_mean, pairs)
