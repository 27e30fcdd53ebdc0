"""Logistic regression CV by warm-started Newton paths (`logistic_regression_cv.solver = 'newton_path'`, opt-in).

The study's `OneVsRestClassifier(LogisticRegressionCV(Cs=10, cv=KFold(5), scoring='accuracy'))` over the same
10 values of C and 5 unshuffled folds, all classes of a fold solved together by Newton's method, each C
warm-started from the previous one, to tolerance. It is not part of the fast evaluation mode: where
scikit-learn's L-BFGS stops unconverged (100 iterations), the two optima differ and so can the accuracies.
"""
import numpy as np
from scipy import special

# Newton on the regularised log-loss converges quadratically; these bound the work on separable data (large C).
NEWTON_MAX_ITERATIONS = 50
NEWTON_TOLERANCE = 1e-6


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
