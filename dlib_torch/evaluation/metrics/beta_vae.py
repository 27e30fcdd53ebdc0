"""The disentanglement metric of the BetaVAE paper, scored with scikit-learn.

Based on "beta-VAE: Learning Basic Visual Concepts with a Constrained Variational Framework"
(https://openreview.net/forum?id=Sy2fzU9gl). Each training point fixes one factor k in a pair of batches;
its feature is the mean absolute difference of their codes, its label k; a logistic regression predicts k.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import factor_rows
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import progress


@gin.configurable("beta_vae_sklearn",
                  denylist=utils.METRIC_ARGUMENTS)
def compute_beta_vae_sklearn(ground_truth_data, representation_function, random_state, artifact_dir=None,
                             batch_size=gin.REQUIRED, num_train=gin.REQUIRED, num_eval=gin.REQUIRED):
    """Computes the BetaVAE score.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      batch_size: number of observation pairs averaged into one training point.
      num_train: number of training points.
      num_eval: number of evaluation points.

    Returns:
      Dict with `train_accuracy` and `eval_accuracy` of the classifier.
    """
    del artifact_dir
    train_points, train_labels = _sample_points(ground_truth_data, representation_function, batch_size,
                                                num_train, random_state)
    model = utils.logistic_regression(random_state=random_state)
    with progress.Progress("fitting the classifier", total=1, unit="fits") as bar:
        model.fit(train_points, train_labels)
        bar.update(1)
    eval_points, eval_labels = _sample_points(ground_truth_data, representation_function, batch_size,
                                              num_eval, random_state)
    return _accuracies(model, train_points, train_labels, eval_points, eval_labels)


def beta_vae_from_codes(codes, factors, random_state=0, batch_size=64, num_train=10000, num_eval=5000,
                        sklearn_version=None):
    """The BetaVAE score on your own arrays: codes [N, D] and the integer factors [N, K] they came from.

    The pairs of batches are drawn from the rows: the first batch uniformly, the second among the rows whose
    fixed factor matches (see factor_rows). Defaults are the study's settings; `sklearn_version` overrides
    gin's `sklearn_defaults.version`.
    """
    random_state = utils.as_random_state(random_state)
    codes = np.asarray(codes)
    rows = factor_rows.FactorRows(factors)
    train_points, train_labels = _sample_points_from_rows(codes, rows, batch_size, num_train, random_state)
    model = utils.logistic_regression(random_state=random_state, version=sklearn_version)
    with progress.Progress("fitting the classifier", total=1, unit="fits") as bar:
        model.fit(train_points, train_labels)
        bar.update(1)
    eval_points, eval_labels = _sample_points_from_rows(codes, rows, batch_size, num_eval, random_state)
    return _accuracies(model, train_points, train_labels, eval_points, eval_labels)


def _accuracies(model, train_points, train_labels, eval_points, eval_labels):
    return {
        "train_accuracy": float(np.mean(model.predict(train_points) == train_labels)),
        "eval_accuracy": float(np.mean(model.predict(eval_points) == eval_labels)),
    }


def _sample_points(ground_truth_data, representation_function, batch_size, num_points, random_state):
    """Features [num_points, num_codes] and labels [num_points], sampled in the reference's order."""
    labels = np.zeros(num_points, dtype=np.int64)

    def observation_batches():
        for i in progress.iterate(range(num_points), "sampling points", unit="points"):
            labels[i] = random_state.randint(ground_truth_data.num_factors)
            factors1 = ground_truth_data.sample_factors(batch_size, random_state)
            factors2 = ground_truth_data.sample_factors(batch_size, random_state)
            factors2[:, labels[i]] = factors1[:, labels[i]]
            yield ground_truth_data.sample_observations_from_factors(factors1, random_state)
            yield ground_truth_data.sample_observations_from_factors(factors2, random_state)

    code_batches = utils.encode_batches(observation_batches(), representation_function)
    # zip over one iterator twice pairs its consecutive items: the codes of batch 1 and batch 2 of each point.
    features = [np.mean(np.abs(codes1 - codes2), axis=0) for codes1, codes2 in zip(code_batches, code_batches)]
    return np.array(features, dtype=np.float64), labels


def _sample_points_from_rows(codes, rows, batch_size, num_points, random_state):
    labels = random_state.randint(rows.num_factors, size=num_points)
    rows1 = rows.sample(num_points * batch_size, random_state).reshape(num_points, batch_size)
    rows2 = np.zeros_like(rows1)
    for factor in range(rows.num_factors):
        points = labels == factor
        rows2[points] = rows.sample_matching(factor, rows.factors[rows1[points], factor].ravel(),
                                             random_state).reshape(-1, batch_size)
    return np.mean(np.abs(codes[rows1] - codes[rows2]), axis=1).astype(np.float64), labels
