"""InfoMEC: InfoM (modularity), InfoE (explicitness) and InfoC (compactness), from Hsu et al.

Based on "Disentanglement via Latent Quantization" (NeurIPS 2023, https://arxiv.org/abs/2305.18378) and its
authors' code (kylehkhsu/latent_quantization, disentangle/metrics/infomec.py). The normalized mutual information
NMI[k, j] = I(factor k; latent j) / H(factor k) is estimated with discrete counts for discrete latents and with
scikit-learn's k-nearest-neighbour estimator (10 neighbours, standardised latents) for continuous ones. Inactive
latents are pruned: a continuous latent is active if its range exceeds 1/20 of the largest range, a discrete one
if it is not constant. InfoM is the mean over active latents, InfoC the mean over factors, of max/sum of NMI,
rescaled so that uniform spreading scores 0 and a one-to-one match 1. InfoE is the mean over factors of the
predictive information (H_marginal - H_conditional) / H_marginal, both log losses of an unpenalised multinomial
logistic regression (balanced class weights, L-BFGS, 100 iterations), one on the latents and one on nothing.

Degenerate inputs follow the authors' formulas, which divide 0 by 0 there: the score is NaN, and one warning line
says why. InfoM is NaN with a single (varying) factor, or when an active latent has zero NMI with every factor;
InfoC is NaN with a single active latent, or when a factor has zero NMI with every active latent; both are NaN
with no active latent (where the authors' code raises). NaN scores are written to the records as JSON's NaN and
aggregate as missing values. One deliberate departure: a constant factor (nothing to capture; the authors' code
raises, as its logistic regression needs two classes) is left out of InfoM, InfoC and InfoE, with a warning, and
its NMI entries are NaN (0 / 0).
"""
from absl import logging
import gin
import numpy as np
from sklearn import feature_selection
from sklearn import linear_model
from sklearn import metrics
from sklearn import preprocessing

from dlib_torch.evaluation.metrics import parallel
from dlib_torch.evaluation.metrics import utils

KNN_NEIGHBORS = 10
ACTIVE_RANGE_FRACTION = 1. / 20.


@gin.configurable("infomec", denylist=utils.METRIC_ARGUMENTS)
def compute_infomec(ground_truth_data, representation_function, random_state, artifact_dir=None,
                    num_train=gin.REQUIRED, batch_size=16, discrete_latents=False):
    """Computes InfoM, InfoE and InfoC on `num_train` sampled points.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      num_train: number of points.
      batch_size: batch size of the sampling.
      discrete_latents: the codes take discrete values (e.g. a quantized latent), counted instead of estimated.

    Returns:
      Dict with `infom`, `infoe`, `infoc`, `num_active_latents` and `nmi.factor_<k>.code_<j>`.
    """
    del artifact_dir
    mus, ys = utils.generate_batch_factor_code(ground_truth_data, representation_function, num_train,
                                               random_state, batch_size)
    return infomec_from_codes(mus.T, ys.T, discrete_latents=discrete_latents,
                              random_state=utils.derived_seeds(random_state, 1)[0])


def infomec_from_codes(codes, factors, discrete_latents=False, random_state=0):
    """InfoM, InfoE and InfoC of codes [N, D] and discrete factors [N, K] (see the module docstring)."""
    codes = np.asarray(codes, dtype=np.float64)
    factors = encode_labels(factors)
    varying = np.array([len(np.unique(factors[:, k])) > 1 for k in range(factors.shape[1])], dtype=bool)
    nmi = normalized_mutual_information(factors, codes, discrete_latents, random_state)
    active = active_latents(codes, discrete_latents)
    infom, infoc, reasons = modularity_and_compactness(nmi[varying][:, active], np.flatnonzero(varying),
                                                       np.flatnonzero(active))
    if not np.all(varying):
        reasons.insert(0, "constant factor(s) {} left out".format(_listed(np.flatnonzero(~varying))))
    if reasons:
        logging.warning("infomec: %s.", "; ".join(reasons))
    scores = {"infom": infom, "infoe": infoe(factors, codes, discrete_latents), "infoc": infoc,
              "num_active_latents": int(np.sum(active))}
    for k in range(nmi.shape[0]):
        for j in range(nmi.shape[1]):
            scores["nmi.factor_{}.code_{}".format(k, j)] = float(nmi[k, j])
    return utils.as_python(scores)


def modularity_and_compactness(nmi, factor_ids, latent_ids):
    """InfoM and InfoC of NMI [varying factors, active latents] by the authors' formulas, NaN where these divide
    0 by 0, and the reasons for each NaN (`factor_ids` and `latent_ids` name the rows and columns in them)."""
    num_factors, num_latents = nmi.shape
    if num_factors == 0:
        return float("nan"), float("nan"), ["InfoM, InfoC (and InfoE) are NaN: no factor varies"]
    if num_latents == 0:
        return float("nan"), float("nan"), ["InfoM and InfoC are NaN: no latent is active"]
    with np.errstate(divide="ignore", invalid="ignore"):
        latent_ratios = np.max(nmi, axis=0) / np.sum(nmi, axis=0)  # NaN for a latent sharing nothing
        factor_ratios = np.max(nmi, axis=1) / np.sum(nmi, axis=1)  # NaN for a factor sharing nothing
        infom = (np.mean(latent_ratios) - np.float64(1) / num_factors) / (1 - np.float64(1) / num_factors)
        infoc = (np.mean(factor_ratios) - np.float64(1) / num_latents) / (1 - np.float64(1) / num_latents)
    reasons = []
    if num_factors == 1:
        reasons.append("InfoM is NaN: a single factor varies")
    if np.any(np.isnan(latent_ratios)):
        reasons.append("InfoM is NaN: active latent(s) {} share no information with any factor".format(
            _listed(np.asarray(latent_ids)[np.isnan(latent_ratios)])))
    if num_latents == 1:
        reasons.append("InfoC is NaN: a single latent is active")
    if np.any(np.isnan(factor_ratios)):
        reasons.append("InfoC is NaN: factor(s) {} share no information with any active latent".format(
            _listed(np.asarray(factor_ids)[np.isnan(factor_ratios)])))
    return float(infom), float(infoc), reasons


def _listed(ids):
    return ", ".join(str(int(i)) for i in ids)


def encode_labels(factors):
    """Factors [N, K] as consecutive integer labels 0..n_k-1 per column."""
    factors = np.asarray(factors)
    return np.stack([preprocessing.LabelEncoder().fit_transform(factors[:, k]) for k in range(factors.shape[1])],
                    axis=1)


def normalized_mutual_information(factors, codes, discrete_latents=False, random_state=0):
    """NMI [K, D]: I(factor k; code j) / H(factor k), for labels [N, K] and codes [N, D]; factors in parallel."""
    if discrete_latents:
        latents = encode_labels(codes)
    else:
        latents = preprocessing.StandardScaler().fit_transform(codes)
    tasks = [(factors[:, k], latents, discrete_latents, int(random_state)) for k in range(factors.shape[1])]
    return np.array(parallel.map_in_parallel(_normalized_information_row, tasks))


def _normalized_information_row(labels, latents, discrete_latents, seed):
    """NMI of one factor with each latent (NaN for a constant factor: 0 / 0)."""
    entropy = metrics.mutual_info_score(labels, labels)
    if entropy == 0:
        return np.full(latents.shape[1], np.nan)
    if discrete_latents:
        information = [metrics.mutual_info_score(labels, latents[:, j]) for j in range(latents.shape[1])]
    else:
        information = [feature_selection.mutual_info_classif(latents[:, j:j + 1], labels, discrete_features=False,
                                                             n_neighbors=KNN_NEIGHBORS, random_state=seed)[0]
                       for j in range(latents.shape[1])]
    return np.asarray(information) / entropy


def active_latents(codes, discrete_latents=False):
    """Latents whose range exceeds 1/20 of the largest (continuous), or that are not constant (discrete)."""
    ranges = np.max(codes, axis=0) - np.min(codes, axis=0)
    if discrete_latents:
        return ranges > 0
    return ranges > np.max(ranges) * ACTIVE_RANGE_FRACTION


def infoe(factors, codes, discrete_latents=False):
    """Mean over factors of (H_marginal - H_conditional) / H_marginal, from logistic-regression log losses."""
    if discrete_latents:
        features = preprocessing.OneHotEncoder().fit_transform(codes).toarray()
    else:
        features = preprocessing.StandardScaler().fit_transform(codes)
    # A constant factor has nothing to predict and is left out (the authors' code raises).
    tasks = [(features, factors[:, k]) for k in range(factors.shape[1]) if len(np.unique(factors[:, k])) > 1]
    informations = parallel.map_in_parallel(_predictive_information, tasks)
    return float(np.mean(informations)) if informations else float("nan")


def _predictive_information(features, labels):
    """(H_marginal - H_conditional) / H_marginal of one factor."""
    conditional = logistic_regression_log_loss(features, labels)
    marginal = logistic_regression_log_loss(np.zeros((len(labels), 1)), labels)
    return (marginal - conditional) / marginal


def logistic_regression_log_loss(features, labels):
    """Training log loss (nats) of an unpenalised multinomial logistic regression with balanced classes."""
    # C = inf is the authors' penalty=None (no penalty), spelled so that every scikit-learn >= 1.1 accepts it.
    model = linear_model.LogisticRegression(C=np.inf, tol=1e-4, fit_intercept=True, class_weight="balanced",
                                            solver="lbfgs", max_iter=100)
    model.fit(features, labels)
    return metrics.log_loss(labels, model.predict_proba(features), labels=model.classes_)
