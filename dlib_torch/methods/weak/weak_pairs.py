"""Pairs of observations that share all but a few factors: the data of weakly-supervised training (Locatello et
al., ICML 2020), as the reference's `simple_dynamics` draws them.

The reference drew the new values of the changed factors from numpy's unseeded global RNG, so its pairs were
not reproducible; here every draw comes from the run's data RandomState (seeded from `model.random_seed` and
carried by the checkpoint), so the same config and seed give the same pairs.
"""
import gin
import numpy as np

from dlib_torch.utils import validation


@gin.configurable("dynamics", denylist=["z", "ground_truth_data", "random_state", "return_index"])
def simple_dynamics(z, ground_truth_data, random_state, return_index=False, k=gin.REQUIRED):
    """Resamples, in place, the factors of one pair's second observation: `choice([1, k])` random factors, each
    uniform (the reference) or, for a data set with `resample_factors` (correlated factors), jointly from the
    correlated distribution given the factors the pair shares.

    Args:
      z: factors [1, num_factors] of the first observation (modified in place).
      ground_truth_data: the data set.
      random_state: numpy RandomState of every draw.
      return_index: return the last changed factor's index instead of k.
      k: how many factors may change; -1 draws k uniformly from 1..num_factors-1 for each pair (the reference).

    Returns:
      (z, last changed index) if return_index, else (z, k).
    """
    if k == -1:
        k_observed = random_state.randint(1, ground_truth_data.num_factors)
    else:
        k_observed = validation.check_int("dynamics.k", k, minimum=1, maximum=ground_truth_data.num_factors)
    index_list = random_state.choice(z.shape[1], random_state.choice([1, k_observed]), replace=False)
    index = -1
    resample = getattr(ground_truth_data, "resample_factors", None)
    if resample is not None:
        # Correlated factors: the changed factors come from the joint given the shared ones (Träuble et al.).
        z[:] = resample(z, index_list, random_state)
        index = index_list[-1]
    else:
        for index in index_list:
            z[:, index] = random_state.randint(ground_truth_data.factors_num_values[index])
    if return_index:
        return z, index
    return z, k_observed


def sample_weak_pairs(ground_truth_data, batch_size, random_state):
    """A batch of pairs as the reference's weak data set: (observations [B, 2H, W, C] with the second image of
    each pair below the first, labels [B] = the last changed factor of each pair)."""
    factors = ground_truth_data.sample_factors(batch_size, random_state)
    next_factors = np.array(factors, copy=True)
    labels = np.zeros(batch_size, dtype=np.int64)
    for i in range(batch_size):
        row, labels[i] = simple_dynamics(next_factors[i:i + 1], ground_truth_data, random_state, return_index=True)
        next_factors[i:i + 1] = row
    observations = ground_truth_data.sample_observations_from_factors(
        np.concatenate([factors, next_factors], axis=0), random_state)
    return np.concatenate([observations[:batch_size], observations[batch_size:]], axis=1), labels
