"""The labelled data of semi-supervised training and validation: which observations are labelled, how the
labeller (`labeller.labeller_fn`) degrades their factors, and the split into training and held-back labels.

Every labeller returns (labels [N, num_observed_factors] float32, the number of values of each observed factor).
"""
import math

import gin
import numpy as np

from dlib_torch.utils.errors import ConfigError


def sample_supervised_data(supervised_seed, ground_truth_data, num_labelled_samples):
    """Draws `num_labelled_samples` observations with RandomState(supervised_seed) and labels them.

    The same seed gives the same labelled set in training and in validation.

    Returns:
      (observations [N, H, W, C], labels [N, K] float32, factor sizes [K]).
    """
    supervised_random_state = np.random.RandomState(supervised_seed)
    sampled_factors = ground_truth_data.sample_factors(num_labelled_samples, supervised_random_state)
    sampled_observations = ground_truth_data.sample_observations_from_factors(sampled_factors,
                                                                              supervised_random_state)
    labels, factor_sizes = make_labeller(np.array(sampled_factors, copy=True), ground_truth_data,
                                         supervised_random_state)
    return sampled_observations, labels, factor_sizes


def train_test_split(observations, labels, num_labelled_samples, train_percentage):
    """The first ceil(N * train_percentage) labelled observations train, the rest are held back.

    Returns:
      (observations_train, labels_train, observations_test, labels_test).
    """
    if observations.shape[0] != num_labelled_samples:
        raise ValueError("expected {} labelled observations, got {}".format(num_labelled_samples,
                                                                            observations.shape[0]))
    num_train = int(math.ceil(num_labelled_samples * train_percentage))
    return observations[:num_train], labels[:num_train], observations[num_train:], labels[num_train:]


@gin.configurable("labeller", denylist=["labels", "dataset"])
def make_labeller(labels, dataset, random_state, labeller_fn=gin.REQUIRED):
    """The configured labeller applied to the true factors `labels` [N, num_factors]."""
    return labeller_fn(labels, dataset, random_state)


@gin.configurable("perfect_labeller", denylist=["labels", "dataset"])
def perfect_labeller(labels, dataset, random_state):
    """The true factors."""
    del random_state
    return np.float32(labels), dataset.factors_num_values


@gin.configurable("bin_labeller", denylist=["labels", "dataset"])
def bin_labeller(labels, dataset, random_state, num_bins=5):
    """Factors of more than `num_bins` values binned into `num_bins` equal bins (a rough human labeller)."""
    del random_state
    labels = np.float32(labels)
    for i, num_values in enumerate(dataset.factors_num_values):
        if num_values > num_bins:
            size_bin = num_values / num_bins
            labels[:, i] = np.minimum(labels[:, i] // size_bin, num_bins - 1)
    return labels, np.minimum(dataset.factors_num_values, num_bins)


@gin.configurable("noisy_labeller", denylist=["labels", "dataset"])
def noisy_labeller(labels, dataset, random_state, prob_random=0.1):
    """Each label replaced, with probability `prob_random`, by a uniformly drawn value of its factor."""
    for j in range(labels.shape[0]):
        for i, num_values in enumerate(dataset.factors_num_values):
            if random_state.rand() < prob_random:
                labels[j, i] = random_state.randint(num_values)
    return np.float32(labels), dataset.factors_num_values


@gin.configurable("permuted_labeller", denylist=["labels", "dataset"])
def permuted_labeller(labels, dataset, random_state):
    """The values of each factor relabelled by a random permutation (the order information is lost)."""
    for i, num_values in enumerate(dataset.factors_num_values):
        labels[:, i] = permute(labels[:, i], num_values, random_state)
    return np.float32(labels), dataset.factors_num_values


def permute(factor, num_values, random_state):
    """`factor` [N] (integer values) mapped through a random permutation of range(num_values)."""
    permutation = random_state.permutation(range(num_values))
    factor[:] = permutation[np.asarray(factor, dtype=np.int64)]
    return factor


def filter_factors(labels, num_observed_factors, random_state):
    """A random subset of `num_observed_factors` columns of `labels`, and their indices."""
    if num_observed_factors < 1:
        raise ConfigError("partial_labeller.num_observed_factors must be at least 1, not {}".format(
            num_observed_factors))
    if num_observed_factors > labels.shape[1]:
        raise ConfigError("partial_labeller.num_observed_factors is {} but the data set has only {} factors".format(
            num_observed_factors, labels.shape[1]))
    factors_to_keep = random_state.choice(labels.shape[1], size=num_observed_factors, replace=False)
    return labels[:, factors_to_keep], factors_to_keep


@gin.configurable("partial_labeller", denylist=["labels", "dataset"])
def partial_labeller(labels, dataset, random_state, num_observed_factors=2):
    """The true values of `num_observed_factors` randomly chosen factors only."""
    labels = np.float32(labels)
    filtered, factors_to_keep = filter_factors(labels, num_observed_factors, random_state)
    return filtered, [dataset.factors_num_values[i] for i in factors_to_keep]
