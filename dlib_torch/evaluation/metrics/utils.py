"""Utilities shared by the metrics (disentanglement_lib's evaluation/metrics/utils.py, same names).

Layouts follow the reference: `mus` are codes [num_codes, num_points], `ys` factors [num_factors, num_points].
Additions: observations are encoded in large batches (`encode_batches`), and the scikit-learn estimators
are pinned to the defaults of the scikit-learn the reference's study ran on (`sklearn_defaults`).
"""
import contextlib
import copy

from absl import logging
import gin
import numpy as np
import sklearn
from sklearn import ensemble
from sklearn import linear_model
from sklearn import metrics
from sklearn import model_selection
from sklearn import multiclass
from sklearn import svm

from dlib_torch.evaluation.metrics import boosted_trees
from dlib_torch.evaluation.metrics import newton_logistic_regression
from dlib_torch.utils import progress
from dlib_torch.utils.errors import ConfigError

# Observations are handed to the representation function in calls of at most about this many bytes.
MAX_ENCODE_BYTES = 128 * 2**20

# Not configurable by gin: the metric interface's arguments (see __init__.py), which the evaluation stage passes.
METRIC_ARGUMENTS = ["ground_truth_data", "representation_function", "random_state", "artifact_dir"]


def encode_batches(observation_batches, representation_function, max_bytes=MAX_ENCODE_BYTES):
    """Yields `representation_function(batch)` for each batch of an iterable, in order.

    Consecutive batches are concatenated into calls of up to `max_bytes` of observations, so an encoder sees
    large batches whatever batch size a metric samples with. The iterable is consumed lazily, so any random
    draws it makes happen in the same order as with one call per batch.
    """
    pending, pending_bytes = [], 0
    for batch in observation_batches:
        pending.append(batch)
        pending_bytes += np.asarray(batch).nbytes
        if pending_bytes >= max_bytes:
            yield from _encode_together(pending, representation_function)
            pending, pending_bytes = [], 0
    if pending:
        yield from _encode_together(pending, representation_function)


def _encode_together(batches, representation_function):
    codes = np.asarray(representation_function(np.concatenate(batches)))
    return np.split(codes, np.cumsum([len(batch) for batch in batches])[:-1])


def generate_batch_factor_code(ground_truth_data, representation_function, num_points, random_state,
                               batch_size):
    """Samples `num_points` i.i.d. factors and the codes of their observations.

    Factors and observations are drawn `batch_size` at a time, consuming `random_state` as the reference.

    Returns:
      codes [num_codes, num_points] and factors [num_factors, num_points].
    """
    factor_batches = []

    def observation_batches():
        with progress.Progress("sampling codes", total=num_points, unit="points") as bar:
            for start in range(0, num_points, batch_size):
                factors, observations = ground_truth_data.sample(min(batch_size, num_points - start), random_state)
                factor_batches.append(factors)
                yield observations
                bar.update(len(observations))

    codes = np.concatenate(list(encode_batches(observation_batches(), representation_function)))
    return np.transpose(codes), np.transpose(np.concatenate(factor_batches))


def obtain_representation(observations, representation_function, batch_size):
    """Codes [num_codes, num_points] of `observations` (`batch_size` is kept for the reference's signature)."""
    del batch_size  # the call size is chosen by memory instead; codes do not depend on it.
    observations = np.asarray(observations)
    row_bytes = max(1, observations[:1].nbytes)
    rows_per_call = max(1, MAX_ENCODE_BYTES // row_bytes)
    batches = [observations[start:start + rows_per_call] for start in range(0, len(observations), rows_per_call)]
    return np.transpose(np.concatenate([np.asarray(representation_function(batch)) for batch in batches]))


def split_train_test(observations, train_percentage):
    """Splits [num_dims, num_points] columns: the first ceil(num_points * train_percentage) go to train."""
    num_train = int(np.ceil(observations.shape[1] * train_percentage))
    return observations[:, :num_train], observations[:, num_train:]


def discrete_mutual_info(mus, ys):
    """Mutual information (nats) between each discrete code and each factor: [num_codes, num_factors]."""
    mutual_info = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            mutual_info[i, j] = metrics.mutual_info_score(ys[j, :], mus[i, :])
    return mutual_info


def discrete_entropy(ys):
    """Entropy (nats) of each discrete factor, computed as in the reference as MI(y, y)."""
    return np.array([metrics.mutual_info_score(y, y) for y in ys], dtype=np.float64)


@gin.configurable("discretizer", denylist=["target"])
def make_discretizer(target, num_bins=gin.REQUIRED, discretizer_fn=gin.REQUIRED):
    """Discretizes each row of `target` with the gin-chosen `discretizer_fn(target, num_bins)`."""
    return discretizer_fn(target, num_bins)


@gin.configurable("histogram_discretizer", denylist=["target"])
def _histogram_discretize(target, num_bins=gin.REQUIRED):
    """Per row: the index (1..num_bins) of the equal-width histogram bin of each value."""
    discretized = np.zeros_like(target)
    for i in range(target.shape[0]):
        bin_edges = np.histogram(target[i, :], num_bins)[1]
        discretized[i, :] = np.digitize(target[i, :], bin_edges[:-1])
    return discretized


histogram_discretize = _histogram_discretize


def default_discretizer(target):
    """The study's discretizer: 20-bin histograms (`discretizer.num_bins = 20`)."""
    return _histogram_discretize(target, num_bins=20)


def normalize_data(data, mean=None, stddev=None):
    """Z-scores each row of `data` (with the given or the data's own mean and std); returns them too."""
    if mean is None:
        mean = np.mean(data, axis=1)
    if stddev is None:
        stddev = np.std(data, axis=1)
    return (data - mean[:, np.newaxis]) / stddev[:, np.newaxis], mean, stddev


# ---------------------------------------------------------------------------------------------------------
# Estimators. The reference calls scikit-learn with its defaults, which changed after the study ran on
# scikit-learn 0.19/0.20: LogisticRegression then meant liblinear one-vs-rest (lbfgs multinomial since
# 0.22; liblinear multiclass is an error since 1.8), LogisticRegressionCV meant lbfgs one-vs-rest, and
# LinearSVC meant the dual solver. "0.20" rebuilds those estimators with today's scikit-learn; "installed"
# gives what the reference's code does under the installed scikit-learn. It matters: on codes that rotate
# ordinal factors, one-vs-rest logistic regression (the study) cannot separate middle classes that the
# multinomial one (today's default) can (downstream accuracy 0.69 vs 1.0 on a rotated 3-factor code). Boosted
# trees need no switch: scikit-learn 0.20's and today's grow the same trees with the same importances.

SKLEARN_DEFAULT_VERSIONS = ("0.20", "installed")


@gin.configurable("sklearn_defaults")
def sklearn_defaults(version="0.20"):
    """Which scikit-learn defaults the reference's estimators get: "0.20" (the published study) or "installed"."""
    if version not in SKLEARN_DEFAULT_VERSIONS:
        raise ConfigError("sklearn_defaults.version is {!r}; valid values: {}".format(
            version, ", ".join(repr(v) for v in SKLEARN_DEFAULT_VERSIONS)))
    return version


def logistic_regression(random_state=None, version=None):
    """The reference's `LogisticRegression(random_state=random_state)` under the chosen defaults.

    With "0.20" (liblinear), a RandomState gives up one draw here, as liblinear's fit did in the reference,
    so that what the metric samples afterwards stays the same.
    """
    if (version or sklearn_defaults()) == "installed":
        return linear_model.LogisticRegression(random_state=random_state)
    if isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(np.iinfo("i").max))
    return multiclass.OneVsRestClassifier(linear_model.LogisticRegression(solver="liblinear",
                                                                          random_state=random_state))


def linear_svc(C, class_weight, random_state=None, version=None):
    """The reference's `LinearSVC(C=C, class_weight=class_weight)` under the chosen defaults (0.20: dual)."""
    dual = "auto" if (version or sklearn_defaults()) == "installed" else True
    return svm.LinearSVC(C=C, class_weight=class_weight, dual=dual, random_state=random_state)


EVALUATION_MODES = ("parity", "fast")
_evaluation_mode = ["parity"]


@contextlib.contextmanager
def evaluation_mode(mode):
    """Within the block, the estimators below are those of `mode`: "parity" (the reference's) or "fast" (the
    same boosted trees grown by compiled loops, compiled_boosted_trees.py). dtl_evaluate enters it with
    `evaluation_runtime.mode`."""
    if mode not in EVALUATION_MODES:
        raise ConfigError("evaluation mode {!r} is not allowed; it must be one of {}".format(
            mode, ", ".join(repr(m) for m in EVALUATION_MODES)))
    _evaluation_mode.append(mode)
    try:
        yield
    finally:
        _evaluation_mode.pop()


def current_evaluation_mode():
    """"parity" (default) or "fast": the mode of the innermost `evaluation_mode` block."""
    return _evaluation_mode[-1]


@gin.configurable("predictor")
def make_predictor_fn(predictor_fn=gin.REQUIRED):
    """Returns the gin-chosen zero-argument factory of classifiers (`predictor.predictor_fn`)."""
    return predictor_fn


LOGISTIC_REGRESSION_CV_SOLVERS = ("sklearn", "newton_path")


@gin.configurable("logistic_regression_cv")
def logistic_regression_cv(solver="sklearn"):
    """Logistic regression choosing C among 10 values by 5-fold (unshuffled) cross-validated accuracy.

    `solver = "newton_path"` (study defaults "0.20" only) solves the one-vs-rest model to tolerance with
    warm-started Newton paths (newton_logistic_regression.LogisticRegressionCV), about 3x faster. It is not part of the
    fast mode: where scikit-learn's L-BFGS stops unconverged (100 iterations, unscaled codes of an untrained
    encoder), accuracies differed from parity by up to 0.8 (benchmarks/bench_evaluate.py --scale=0.05).
    """
    if solver not in LOGISTIC_REGRESSION_CV_SOLVERS:
        raise ConfigError("logistic_regression_cv.solver is {!r}; valid values: {}".format(
            solver, ", ".join(repr(v) for v in LOGISTIC_REGRESSION_CV_SOLVERS)))
    if solver == "newton_path" and sklearn_defaults() == "0.20":
        return newton_logistic_regression.LogisticRegressionCV()
    model = linear_model.LogisticRegressionCV(
        Cs=10, cv=model_selection.KFold(n_splits=5), scoring="accuracy",
        **_explicit_future_defaults(linear_model.LogisticRegressionCV, l1_ratios=(0.0,),
                                    use_legacy_attributes=False))
    if sklearn_defaults() == "installed":
        return model
    return multiclass.OneVsRestClassifier(model)


GBT_IMPLEMENTATIONS = ("dlib_torch", "sklearn")


@gin.configurable("gradient_boosting_classifier")
def gradient_boosting_classifier(implementation="dlib_torch", random_state=None):
    """scikit-learn's default gradient boosting classifier (100 trees of depth 3, learning rate 0.1).

    `implementation = "dlib_torch"` (default) grows scikit-learn's trees bit for bit, ties between equally good
    splits included, by compiled loops (`boosted_trees`, faster); `"sklearn"` is
    `sklearn.ensemble.GradientBoostingClassifier()` itself. Both break ties by the feature order scikit-learn
    draws from `random_state` (unset in the reference: the global RNG). Under a scikit-learn release other than
    the one `boosted_trees` ports, scikit-learn's own class is used (one log line says so). Used by
    `downstream_task`'s `@gradient_boosting_classifier` predictor and by `dci`. In the fast mode
    (`evaluation_runtime.mode = 'fast'`) the same model is grown by faster compiled loops
    (compiled_boosted_trees.py), which may split near-ties otherwise, whatever `implementation` says.
    """
    if implementation not in GBT_IMPLEMENTATIONS:
        raise ConfigError("gradient_boosting_classifier.implementation is {!r}; valid values: {}".format(
            implementation, ", ".join(repr(v) for v in GBT_IMPLEMENTATIONS)))
    if current_evaluation_mode() == "fast":
        # pylint: disable-next=import-outside-toplevel (numba's import costs a second; only the fast mode needs it)
        from dlib_torch.evaluation.metrics import compiled_boosted_trees
        return compiled_boosted_trees.GradientBoostingClassifier(random_state=random_state)
    if implementation == "sklearn":
        return ensemble.GradientBoostingClassifier(random_state=random_state)
    if not boosted_trees.ports_installed_sklearn():
        logging.log_first_n(logging.WARNING, "scikit-learn %s is installed; boosted_trees ports %s: using "
                            "scikit-learn's GradientBoostingClassifier", 1, sklearn.__version__,
                            ".".join(map(str, boosted_trees.PORTED_SKLEARN)))
        return ensemble.GradientBoostingClassifier(random_state=random_state)
    return boosted_trees.GradientBoostingClassifier(random_state=random_state)


def _explicit_future_defaults(estimator_class, **params):
    """Spells out parameters whose defaults newer scikit-learns are changing, where they exist."""
    defaults = estimator_class().get_params()
    return {name: value for name, value in params.items()
            if name in defaults and isinstance(defaults[name], str)}


def derived_seeds(random_state, num):
    """`num` seeds for estimators, drawn from a copy of `random_state`.

    The caller's stream is left untouched, so the samples a metric draws afterwards are the reference's.
    """
    return copy.deepcopy(random_state).randint(np.iinfo(np.int32).max, size=num)


def seeded(model, seed):
    """Sets each unset `random_state` of a scikit-learn model (nested ones too) to `seed`; returns the model.

    The reference leaves them unset, so its fits depend on the global numpy RNG wherever an estimator
    is random (tie-breaking between equally good tree splits, the dual LinearSVC solver).
    """
    if hasattr(model, "get_params"):
        unset = {name: int(seed) for name, value in model.get_params(deep=True).items()
                 if (name == "random_state" or name.endswith("__random_state")) and value is None}
        if unset:
            model.set_params(**unset)
    return model


def as_random_state(random_state):
    """A numpy RandomState from a RandomState or an int seed."""
    if isinstance(random_state, np.random.RandomState):
        return random_state
    return np.random.RandomState(random_state)


def fit_and_score(model, x_train, y_train, x_test, y_test, keep_model=False):
    """Fits `model` on (x_train, y_train) and returns its train and test accuracies (and the model)."""
    model.fit(x_train, y_train)
    train_accuracy = float(np.mean(model.predict(x_train) == y_train))
    test_accuracy = float(np.mean(model.predict(x_test) == y_test))
    if keep_model:
        return train_accuracy, test_accuracy, model
    return train_accuracy, test_accuracy


def as_python(scores):
    """The scores dict with numpy scalars turned into Python numbers (for JSON records)."""
    return {key: value.item() if isinstance(value, np.generic) else value for key, value in scores.items()}
