"""The one number each metric is known by in the papers' figures, and its display name.

Locatello et al. (2019) plot one score per metric: the BetaVAE and FactorVAE scores' evaluation accuracy,
MIG, DCI disentanglement, modularity, SAP, the Gaussian total correlation of the unsupervised scores, the
downstream tasks' test accuracy at the largest training size, and (fairness study) the unfairness averaged
over target and sensitive factors. Keys are the reference's result keys, looked up by metric function.
"""
import re

# evaluation function (gin name without '@' and '()') -> result key, or a callable picking it from the keys.
MAIN_SCORE_KEYS = {
    "beta_vae_sklearn": "eval_accuracy",
    "factor_vae_score": "eval_accuracy",
    "mig": "discrete_mig",
    "mig_validation": "discrete_mig",
    "dci": "disentanglement",
    "dci_validation": "disentanglement",
    "sap_score": "SAP_score",
    "sap_score_validation": "SAP_score",
    "modularity_explicitness": "modularity_score",
    "irs": "IRS",
    "unsupervised_metrics": "gaussian_total_correlation",
    "fairness": "mean_fairness:mean_pred:mean_sens",
    "held_out_reconstruction": "test_nll",
    "infomec": "infom",
}
# Functions whose key depends on the training sizes of the config: "<largest size>:mean_test_accuracy".
SIZED_ACCURACY_FUNCTIONS = ("downstream_task", "strong_downstream_task")
_SIZED_KEY = re.compile(r"^(\d+):mean_test_accuracy$")

DISPLAY_NAMES = {
    "beta_vae_sklearn": "BetaVAE score",
    "factor_vae_metric": "FactorVAE score",
    "factor_vae_score": "FactorVAE score",
    "mig": "MIG",
    "dci": "DCI disentanglement",
    "sap_score": "SAP",
    "modularity_explicitness": "Modularity",
    "irs": "IRS",
    "unsupervised": "Total correlation",
    "unsupervised_metrics": "Total correlation",
    "downstream_task_logistic_regression": "Downstream LR",
    "downstream_task_boosted_trees": "Downstream GBT",
    "fairness": "Unfairness",
    "held_out_reconstruction": "Held-out NLL",
    "infomec": "InfoM",
}
# The order of Locatello et al.'s figures; other metrics follow in name order.
METRIC_ORDER = ["beta_vae_sklearn", "factor_vae_metric", "mig", "dci", "modularity_explicitness", "sap_score", "irs",
                "unsupervised", "downstream_task_logistic_regression", "downstream_task_boosted_trees", "fairness",
                "held_out_reconstruction"]
# Metrics that score disentanglement (the y-axes of the unsupervised-score and fairness comparisons).
NOT_DISENTANGLEMENT = ("unsupervised_metrics", "fairness", "held_out_reconstruction", "downstream_task",
                       "strong_downstream_task", "reduced_downstream_task", "composition_reconstruction")


def display_name(metric):
    """A metric's name as the papers print it (its config name when unknown)."""
    return DISPLAY_NAMES.get(metric, metric)


def metric_sort_key(metric):
    return (METRIC_ORDER.index(metric) if metric in METRIC_ORDER else len(METRIC_ORDER), metric)


def main_score_key(function, result_keys):
    """The main result key of a metric computed by `function`, or None if no known key is among `result_keys`."""
    if function in SIZED_ACCURACY_FUNCTIONS:
        sizes = [int(m.group(1)) for m in map(_SIZED_KEY.match, result_keys) if m]
        return "{}:mean_test_accuracy".format(max(sizes)) if sizes else None
    key = MAIN_SCORE_KEYS.get(function)
    return key if key in result_keys else None


def is_disentanglement(function):
    """Whether a metric function measures disentanglement (not TC, unfairness, accuracy or reconstruction)."""
    return function not in NOT_DISENTANGLEMENT
