"""DCI-ES: DCI extended with explicitness (E) and size (S), from Eastwood et al.

Based on "DCI-ES: An Extended Disentanglement Framework with Connections to Identifiability" (ICLR 2023,
https://openreview.net/forum?id=462z-gLgSht) and its authors' code (andreinicolicioiu/DCI-ES). For each factor,
probes of increasing capacity predict it from the codes: random forests (the paper's default probe family) whose
capacity is their maximum depth, `capacities` = (1, 2, 4, 8, 16) by default, `num_trees` trees each. A probe's loss
is its test error (1 - accuracy; 1 - R² with `continuous_factors`), and the loss-capacity curve keeps the lowest
loss reached up to each capacity. Explicitness of a factor is E = 1 - AULCC / Z: AULCC is the area under the curve
above the lowest achievable loss l* = 0 over [c_min, c_max] (trapezoids), and Z = (c_max - c_min)(l_b - l*), with
l_b the baseline loss chosen by `baseline`:
  * 'chance' (default): the loss of guessing at random, 1 - 1/num_values for a factor with num_values values, 1 for
    continuous factors (1 - R² of the mean); the curve is not clipped, so a probe worse than chance makes E < 0.
    This is the baseline of the authors' code (src/simple_gather.py), which computed the paper's numbers.
  * 'majority': the test loss of the best constant predictor fitted on the training set (its majority class; its
    mean), with the curve clipped at it, so E lies in [0, 1].
Both give E = 1 when the smallest probe is perfect, and agree on balanced factors up to sampling noise; they part on
imbalanced or small test sets and where a probe is worse than the baseline. (The authors' script also measures the
area above the curve's own minimum rather than above l* = 0, and doubles it; the paper's formula is followed here.)
Size is S = num_factors / num_codes (1 for a representation as small as the ground truth). D, C and I come from the
same probes at the capacity with the best mean test informativeness (impurity importances, as the authors' trees).
The results record each factor's baseline loss (`baseline_loss.factor_<k>`); the records' config, the choice.
"""
import gin
import numpy as np
from sklearn import ensemble

from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import parallel
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import validation

DEFAULT_CAPACITIES = (1, 2, 4, 8, 16)
BASELINES = ("chance", "majority")


@gin.configurable("dci_es", denylist=utils.METRIC_ARGUMENTS)
def compute_dci_es(ground_truth_data, representation_function, random_state, artifact_dir=None,
                   num_train=gin.REQUIRED, num_test=gin.REQUIRED, batch_size=16, capacities=DEFAULT_CAPACITIES,
                   num_trees=100, continuous_factors=False, baseline="chance"):
    """Computes DCI-ES with random-forest probes of increasing depth.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_train: points the probes are trained on.
      num_test: points their losses are measured on.
      batch_size: batch size of the sampling.
      capacities: the probes' maximum depths, increasing.
      num_trees: trees per random forest (the authors' 100).
      continuous_factors: regress the factors (loss 1 - R²) instead of classifying them (loss 1 - accuracy).
      baseline: the baseline loss l_b, 'chance' (the authors') or 'majority' (see the module docstring).

    Returns:
      Dict with `explicitness`, `size`, `disentanglement`, `completeness`, `informativeness_train`,
      `informativeness_test`, `best_capacity`, `explicitness.factor_<k>`, `baseline_loss.factor_<k>` and
      `loss.factor_<k>.capacity_<c>`.
    """
    del artifact_dir
    validation.check_choice("dci_es.baseline", baseline, BASELINES)
    mus_train, ys_train = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_train,
                                                           random_state, batch_size)
    mus_test, ys_test = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_test,
                                                         random_state, batch_size)
    return dci_es_from_codes(mus_train.T, ys_train.T, mus_test.T, ys_test.T, capacities=capacities,
                             num_trees=num_trees, continuous_factors=continuous_factors, random_state=random_state,
                             baseline=baseline, factor_sizes=ground_truth_data.factors_num_values)


def dci_es_from_codes(codes_train, factors_train, codes_test, factors_test, capacities=DEFAULT_CAPACITIES,
                      num_trees=100, continuous_factors=False, random_state=0, baseline="chance", factor_sizes=None):
    """DCI-ES of codes [N, D] with factors [N, K] (train and test sets); see the module docstring.

    `random_state` (RandomState or int) seeds the forests without being advanced. `factor_sizes` are the factors'
    numbers of values for the 'chance' baseline (default: the values seen in the train and test sets).
    """
    validation.check_choice("dci_es.baseline", baseline, BASELINES)
    capacities = [int(c) for c in capacities]
    if not capacities or any(c < 1 for c in capacities) or sorted(set(capacities)) != capacities:
        raise ValueError("capacities must be increasing positive depths, got {}".format(capacities))
    seed = int(utils.derived_seeds(utils.as_random_state(random_state), 1)[0])
    codes_train, codes_test = np.asarray(codes_train, np.float64), np.asarray(codes_test, np.float64)
    factors_train, factors_test = np.asarray(factors_train), np.asarray(factors_test)
    num_factors = factors_train.shape[1]
    tasks = [(codes_train, factors_train[:, k], codes_test, factors_test[:, k], depth, num_trees, continuous_factors,
              seed) for k in range(num_factors) for depth in capacities]
    fits = parallel.map_in_parallel(_fit_probe, tasks,
                                    costs=[depth for _ in range(num_factors) for depth in capacities])
    # fits[k * len(capacities) + c] = (importances [D], train score, test score)
    importances = np.array([fit[0] for fit in fits]).reshape(num_factors, len(capacities), -1)
    train_scores = np.array([fit[1] for fit in fits]).reshape(num_factors, len(capacities))
    test_scores = np.array([fit[2] for fit in fits]).reshape(num_factors, len(capacities))

    scores = {}
    explicitness_per_factor = []
    if factor_sizes is None:
        factor_sizes = [len(np.unique(np.concatenate([factors_train[:, k], factors_test[:, k]])))
                        for k in range(num_factors)]
    for k in range(num_factors):
        if baseline == "chance":
            baseline_value = chance_loss(factor_sizes[k], continuous_factors)
        else:
            baseline_value = baseline_loss(factors_train[:, k], factors_test[:, k], continuous_factors)
        scores["baseline_loss.factor_{}".format(k)] = baseline_value
        losses = 1. - test_scores[k]
        for depth, loss in zip(capacities, losses):
            scores["loss.factor_{}.capacity_{}".format(k, depth)] = float(loss)
        value = explicitness(capacities, losses, baseline_value, clip=baseline == "majority")
        scores["explicitness.factor_{}".format(k)] = value
        if value is not None:
            explicitness_per_factor.append(value)
    best = int(np.argmax(test_scores.mean(axis=0)))
    importance_matrix = np.abs(importances[:, best, :]).T  # [num_codes, num_factors]
    scores.update({
        "explicitness": float(np.mean(explicitness_per_factor)) if explicitness_per_factor else 0.,
        "size": float(num_factors) / codes_train.shape[1],
        "disentanglement": dci.disentanglement(importance_matrix),
        "completeness": dci.completeness(importance_matrix),
        "informativeness_train": float(train_scores[:, best].mean()),
        "informativeness_test": float(test_scores[:, best].mean()),
        "best_capacity": capacities[best],
    })
    return utils.as_python(scores)


def explicitness(capacities, losses, baseline, lowest_loss=0., clip=True):
    """E = 1 - AULCC / Z of one factor's loss-capacity curve (None when the baseline is already optimal).

    The curve keeps the lowest loss reached up to each capacity, clipped at `baseline` if `clip` (E then lies in
    [0, 1]); the area is the trapezoid rule over the capacities; one capacity gives
    E = 1 - (loss - l*) / (baseline - l*).
    """
    if baseline <= lowest_loss:
        return None
    curve = np.minimum.accumulate(np.asarray(losses, dtype=np.float64))
    if clip:
        curve = np.minimum(curve, baseline)
    curve = curve - lowest_loss
    capacities = np.asarray(capacities, dtype=np.float64)
    if len(capacities) == 1:
        return float(1. - curve[0] / (baseline - lowest_loss))
    area = np.sum(0.5 * (curve[:-1] + curve[1:]) * np.diff(capacities))
    normaliser = (capacities[-1] - capacities[0]) * (baseline - lowest_loss)
    return float(1. - area / normaliser)


def chance_loss(num_values, continuous_factors=False):
    """Loss of guessing one of `num_values` values at random, 1 - 1/num_values (1 - R² = 1 when continuous)."""
    return 1. if continuous_factors else 1. - 1. / num_values


def baseline_loss(factor_train, factor_test, continuous_factors=False):
    """Test loss of the best constant predictor fitted on the training factor (the 'majority' baseline)."""
    if continuous_factors:
        variance = np.var(factor_test)
        if variance == 0:
            return 0.
        return float(np.mean((factor_test - np.mean(factor_train)) ** 2) / variance)
    values, counts = np.unique(factor_train, return_counts=True)
    return float(1. - np.mean(factor_test == values[np.argmax(counts)]))


def _fit_probe(x_train, y_train, x_test, y_test, depth, num_trees, continuous, seed):
    """One random forest of maximum depth `depth`: importances, train and test score (accuracy or R²)."""
    forest = ensemble.RandomForestRegressor if continuous else ensemble.RandomForestClassifier
    model = forest(n_estimators=num_trees, max_depth=depth, random_state=seed, n_jobs=1)
    model.fit(x_train, y_train)
    return np.abs(model.feature_importances_), model.score(x_train, y_train), model.score(x_test, y_test)
