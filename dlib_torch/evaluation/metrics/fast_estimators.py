"""Estimators of the fast evaluation mode (`evaluation_runtime.mode = 'fast'`), a documented deviation.

Parity mode grows scikit-learn's exact `GradientBoostingClassifier` (the reference's DCI importances and
boosted-tree downstream task) and cross-validates `LogisticRegressionCV` one class, one fold and one C at a time.
The fast mode keeps the model but not its exact fit: `HistGradientBoostingClassifier` with the same shape (100
stages of depth-3 trees, learning rate 0.1, one sample per leaf at least) on 255 quantile bins per code, and
DCI importances from the residuals' split gains. Also here, opt-in apart (`logistic_regression_cv.solver =
'newton_path'`, not in the fast mode: it deviates where L-BFGS stops unconverged): logistic regression CV over
the same 10 values of C and 5 unshuffled folds, one-vs-rest as the study, all classes of a fold solved together
by Newton's method, warm-started from the previous C along the path.
Scores move a little (measured in benchmarks/bench_evaluate.py --mode=fast); records carry
`evaluation_config.evaluation_runtime.mode` so fast and parity numbers are never mixed silently.
"""
import numpy as np
from scipy import special
from sklearn import ensemble
import threadpoolctl

# Newton on the regularised log-loss converges quadratically; these bound the work on separable data (large C).
NEWTON_MAX_ITERATIONS = 50
NEWTON_TOLERANCE = 1e-6


class HistGradientBoostingClassifier(ensemble.HistGradientBoostingClassifier):
    """Histogram gradient boosting shaped like scikit-learn's default `GradientBoostingClassifier`, with its
    `feature_importances_`: the squared-error decrease of each split on the stage's residuals, summed over all
    trees and normalised. (The trees' own Newton gains weigh confident samples' residuals up and made DCI
    disentanglement 0.03 lower than parity on a noisy code; these residual gains are what scikit-learn sums.)"""

    def __init__(self, random_state=None):
        super().__init__(learning_rate=0.1, max_iter=100, max_depth=3, max_leaf_nodes=None, min_samples_leaf=1,
                         l2_regularization=0.0, max_bins=255, early_stopping=False, random_state=random_state)

    def fit(self, X, y, sample_weight=None):  # pylint: disable=invalid-name,arguments-differ (sklearn's names)
        # One OpenMP thread: fits already run one per process (parallel.py), and on a busy machine OpenMP's
        # spinning threads made a fit 40x slower (111 s against 2.6 s measured here).
        with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
            super().fit(X, y, sample_weight=sample_weight)
        self._training_data = (X, y)  # for feature_importances_, computed only if asked (DCI; not downstream)
        self._importances = None
        return self

    @property
    def feature_importances_(self):
        if self._importances is None:
            x, y = self._training_data
            self._importances = residual_importances(self, np.asarray(x, dtype=np.float64), y)
        return self._importances

    def _raw_predict(self, X, n_threads=None):  # pylint: disable=invalid-name (sklearn's name)
        with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
            return super()._raw_predict(X, n_threads=n_threads)


def residual_importances(model, x, y):
    """Normalised importances [D] of a fitted HistGradientBoostingClassifier: per split, the decrease of the
    squared error of the negative gradients its stage fitted, (G_l^2 / n_l + G_r^2 / n_r - G^2 / n)."""
    classes = np.searchsorted(model.classes_, np.asarray(y))
    num_trees = model.n_trees_per_iteration_
    targets = np.eye(len(model.classes_))[classes]
    if num_trees == 1:
        targets = targets[:, 1:]
    raw = np.zeros((len(x), num_trees)) + np.asarray(model._baseline_prediction).reshape(1, -1)  # pylint: disable=protected-access
    importances = np.zeros(x.shape[1])
    rows = np.arange(len(x))
    for stage in model._predictors:  # pylint: disable=protected-access (the fitted trees)
        probabilities = special.expit(raw) if num_trees == 1 else special.softmax(raw, axis=1)
        gradients = probabilities - targets
        for k, tree in enumerate(stage):
            nodes = tree.nodes
            is_leaf = nodes["is_leaf"].astype(bool)
            node, active = np.zeros(len(x), dtype=np.int64), np.ones(len(x), dtype=bool)
            sums, counts = np.zeros(len(nodes)), np.zeros(len(nodes))
            while active.any():  # each sample adds its gradient to every node on its path, root to leaf
                sums += np.bincount(node[active], weights=gradients[active, k], minlength=len(nodes))
                counts += np.bincount(node[active], minlength=len(nodes))
                active &= ~is_leaf[node]
                at = node[active]
                go_left = x[rows[active], nodes["feature_idx"][at]] <= nodes["num_threshold"][at]
                node[active] = np.where(go_left, nodes["left"][at], nodes["right"][at])
            raw[:, k] += nodes["value"][node]
            inner = np.flatnonzero(~is_leaf)
            left, right = nodes["left"][inner], nodes["right"][inner]
            decrease = (sums[left] ** 2 / counts[left] + sums[right] ** 2 / counts[right]
                        - sums[inner] ** 2 / counts[inner])
            np.add.at(importances, nodes["feature_idx"][inner], np.maximum(decrease, 0.))
    total = importances.sum()
    return importances / total if total > 0 else importances


class LogisticRegressionCV:
    """One-vs-rest L2 logistic regression choosing C per class among `Cs` by `num_folds`-fold (unshuffled)
    cross-validated accuracy, then refitted on all data: the study's `OneVsRestClassifier(LogisticRegressionCV(
    Cs=10, cv=KFold(5), scoring='accuracy'))` (objective C * sum(log-loss) + |w|^2 / 2, intercept unpenalised),
    solved to tolerance instead of by L-BFGS's 100 iterations."""

    def __init__(self, Cs=10, num_folds=5, random_state=None):  # pylint: disable=invalid-name (sklearn's name)
        self.Cs = Cs
        self.num_folds = num_folds
        self.random_state = random_state  # unused: the fit is deterministic

    def get_params(self, deep=True):
        return {"Cs": self.Cs, "num_folds": self.num_folds, "random_state": self.random_state}

    def set_params(self, **params):
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def fit(self, x, y):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            self.coef_, self.intercept_ = np.zeros((1, x.shape[1])), np.zeros(1)
            return self
        cs = np.logspace(-4, 4, self.Cs) if np.isscalar(self.Cs) else np.asarray(self.Cs, dtype=np.float64)
        targets = (y[:, None] == self.classes_[None, :]).astype(np.float64)  # [N, K] one-vs-rest labels
        if len(self.classes_) == 2:
            targets = targets[:, 1:]  # one binary problem, as OneVsRestClassifier with two classes
        fold_bounds = np.concatenate([[0], np.cumsum(_kfold_sizes(len(x), self.num_folds))])
        accuracy = np.zeros((len(cs), targets.shape[1]))
        coefs_at_best = []
        fold_coefs = []
        for start, stop in zip(fold_bounds[:-1], fold_bounds[1:]):
            train = np.ones(len(x), dtype=bool)
            train[start:stop] = False
            path = regularisation_path(x[train], targets[train], cs)  # [len(cs), K, D + 1]
            scores = _add_intercept(x[~train]) @ path.transpose(0, 2, 1)  # [len(cs), n_test, K]
            accuracy += np.mean((scores > 0) == (targets[~train] > 0.5)[None], axis=1)
            fold_coefs.append(path)
        best = np.argmax(accuracy, axis=0)  # the first best C per class, as scikit-learn
        for k, index in enumerate(best):
            coefs_at_best.append(np.mean([path[index, k] for path in fold_coefs], axis=0))
        weights = newton_fit(x, targets, cs[best], np.stack(coefs_at_best))
        self.C_ = cs[best]
        self.coef_, self.intercept_ = weights[:, :-1], weights[:, -1]
        return self

    def decision_function(self, x):
        return np.asarray(x, dtype=np.float64) @ self.coef_.T + self.intercept_

    def predict(self, x):
        scores = self.decision_function(x)
        if len(self.classes_) < 2:
            return np.full(len(scores), self.classes_[0])
        if scores.shape[1] == 1:
            return self.classes_[(scores[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


def _kfold_sizes(num_samples, num_folds):
    """Fold sizes of scikit-learn's unshuffled KFold: the first num_samples % num_folds folds get one more."""
    sizes = np.full(num_folds, num_samples // num_folds)
    sizes[:num_samples % num_folds] += 1
    return sizes


def _add_intercept(x):
    return np.concatenate([x, np.ones((len(x), 1))], axis=1)


def regularisation_path(x, targets, cs):
    """Weights [len(cs), K, D + 1] (intercept last) of K binary problems for each C, each C's Newton solve
    starting from the previous C's solution (increasing C: the solutions move little between neighbours)."""
    weights = np.zeros((targets.shape[1], x.shape[1] + 1))
    path = []
    for c in cs:
        weights = newton_fit(x, targets, np.full(targets.shape[1], c), weights)
        path.append(weights)
    return np.stack(path)


def newton_fit(x, targets, cs, initial_weights):
    """Minimises C_k * sum(log-loss) + |w_k|^2 / 2 (intercept unpenalised) for each column k of `targets`
    [N, K] by damped Newton steps; returns weights [K, D + 1]."""
    design = _add_intercept(x)
    num_classes, num_weights = initial_weights.shape
    weights = initial_weights.copy()
    penalty = np.ones(num_weights)
    penalty[-1] = 0.
    ridge = np.eye(num_weights) * penalty / cs[:, None, None]  # [K, D + 1, D + 1] after dividing by C
    for _ in range(NEWTON_MAX_ITERATIONS):
        logits = design @ weights.T  # [N, K]
        probabilities = special.expit(logits)
        gradient = (design.T @ (probabilities - targets)).T + weights * penalty / cs[:, None]  # [K, D + 1]
        curvature = probabilities * (1. - probabilities)  # [N, K]
        hessian = (design.T[None] * curvature.T[:, None, :]) @ design + ridge  # [K, D + 1, D + 1]
        hessian += 1e-10 * np.eye(num_weights)  # separable classes at large C: keep the system solvable
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        objective = _objective(design, targets, weights, cs, penalty)
        scale = np.ones(num_classes)
        for _ in range(30):  # backtracking per class until the objective does not increase
            candidate = weights - scale[:, None] * step
            worse = _objective(design, targets, candidate, cs, penalty) > objective + 1e-12
            if not worse.any():
                break
            scale[worse] *= 0.5
        weights = candidate
        if np.max(np.abs(scale[:, None] * step)) < NEWTON_TOLERANCE:
            break
    return weights


def _objective(design, targets, weights, cs, penalty):
    """Per class: sum of log-losses + |w|^2 / (2 C) (the objective divided by C)."""
    logits = design @ weights.T
    log_loss = np.sum(np.logaddexp(0., logits) - targets * logits, axis=0)
    return log_loss + 0.5 * np.sum(weights ** 2 * penalty, axis=1) / cs
