"""Mutual Information Gap (MIG), from the beta-TC-VAE paper.

Based on "Isolating Sources of Disentanglement in Variational Autoencoders"
(https://arxiv.org/pdf/1802.04942.pdf). For each factor: the gap between the two codes that share the most
mutual information with it, divided by its entropy; averaged over factors.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import utils


@gin.configurable("mig", denylist=utils.METRIC_ARGUMENTS)
def compute_mig(ground_truth_data, representation_function, random_state, artifact_dir=None,
                num_train=gin.REQUIRED, batch_size=16):
    """Computes the MIG on `num_train` sampled points, with codes discretized by gin's `discretizer`.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_train: number of points.
      batch_size: batch size of the sampling.

    Returns:
      Dict with `discrete_mig`.
    """
    del artifact_dir
    mus_train, ys_train = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_train,
                                                           random_state, batch_size)
    return mig_from_codes(mus_train.T, ys_train.T, discretizer=utils.make_discretizer)


def mig_from_codes(codes, factors, discretizer=None):
    """The MIG of codes [N, D] and discrete factors [N, K].

    `discretizer` maps codes [D, N] to discrete codes; default: 20-bin histograms (the study's setting).
    """
    discretizer = discretizer or utils.default_discretizer
    mutual_info = utils.discrete_mutual_info(discretizer(np.transpose(codes)), np.transpose(factors))
    entropy = utils.discrete_entropy(np.transpose(factors))
    sorted_mutual_info = np.sort(mutual_info, axis=0)[::-1]
    return {"discrete_mig": float(np.mean((sorted_mutual_info[0] - sorted_mutual_info[1]) / entropy))}


@gin.configurable("mig_validation", denylist=["observations", "labels", "representation_function"])
def compute_mig_on_fixed_data(observations, labels, representation_function, batch_size=100):
    """The MIG on fixed observations and their factors `labels` [num_factors, num_observations]."""
    mus = utils.obtain_representation(observations, representation_function, batch_size)
    if labels.shape[1] != mus.shape[1]:
        raise ValueError("labels must be [num_factors, num_observations]; got {} for {} observations".format(
            labels.shape, mus.shape[1]))
    return mig_from_codes(mus.T, labels.T, discretizer=utils.make_discretizer)
