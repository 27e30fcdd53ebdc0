"""The one number each metric is known by in the papers' figures, and its display name.

Locatello et al. (2019) plot one score per metric: the BetaVAE and FactorVAE scores' evaluation accuracy,
MIG, DCI disentanglement, modularity, SAP, the Gaussian total correlation of the unsupervised scores, the
downstream tasks' test accuracy at the largest training size, and (fairness study) the unfairness averaged
over target and sensitive factors. The other metrics: UDR's model score (Duan et al. 2020), DCI-ES's
explicitness E (Eastwood et al. 2023), InfoMEC's InfoM (Hsu et al. 2023; modularity, its disentanglement
score), the unified scores' DCI disentanglement of the boosted-tree importances, the reduced downstream
task's accuracy on the reduced factor, and the held-out NLL of the reconstruction and composition measures
(Montero et al. 2021). Keys are the reference's result keys, looked up by metric function.
"""
import re

# evaluation function (gin name without '@' and '()') -> result key, or candidate keys (the first present wins).
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
    "dci_es": "explicitness",
    "udr_sklearn": "udr",
    "composition_reconstruction": "test_nll",
    # DCI disentanglement of the first importance matrix present (the metric's matrices are gin's choice).
    "unified_scores": ("importance_gbt_matrix.dci_disentanglement", "mutual_information_matrix.dci_disentanglement",
                       "accuracy_svm_matrix.dci_disentanglement"),
}
MAIN_SCORE_KEYS["unified_score_validation"] = MAIN_SCORE_KEYS["unified_scores"]
# Functions whose key depends on the training sizes of the config: "<largest size>:<key>".
SIZED_FUNCTIONS = {"downstream_task": "mean_test_accuracy", "strong_downstream_task": "mean_test_accuracy",
                   "reduced_downstream_task": "mean_test_accuracy_reduced_factor"}

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
    "dci_es": "DCI-ES explicitness",
    "udr": "UDR",
    "udr_sklearn": "UDR",
    "composition_reconstruction": "Held-out composition NLL",
    "unified_scores": "Unified DCI",
    "reduced_downstream_task": "Reduced downstream",
}
# The order of Locatello et al.'s figures; other metrics follow in name order.
METRIC_ORDER = ["beta_vae_sklearn", "factor_vae_metric", "mig", "dci", "modularity_explicitness", "sap_score", "irs",
                "unsupervised", "downstream_task_logistic_regression", "downstream_task_boosted_trees", "fairness",
                "held_out_reconstruction"]
# Metrics that score disentanglement (the y-axes of the unsupervised-score and fairness comparisons).
NOT_DISENTANGLEMENT = ("unsupervised_metrics", "fairness", "held_out_reconstruction", "downstream_task",
                       "strong_downstream_task", "reduced_downstream_task", "composition_reconstruction", "dci_es")


def display_name(metric):
    """A metric's name as the papers print it (its config name when unknown)."""
    return DISPLAY_NAMES.get(metric, metric)


def metric_sort_key(metric):
    return (METRIC_ORDER.index(metric) if metric in METRIC_ORDER else len(METRIC_ORDER), metric)


def main_score_key(function, result_keys):
    """The main result key of a metric computed by `function`, or None if no known key is among `result_keys`."""
    if function in SIZED_FUNCTIONS:
        pattern = re.compile(r"^(\d+):{}$".format(re.escape(SIZED_FUNCTIONS[function])))
        sizes = [int(m.group(1)) for m in map(pattern.match, result_keys) if m]
        return "{}:{}".format(max(sizes), SIZED_FUNCTIONS[function]) if sizes else None
    candidates = MAIN_SCORE_KEYS.get(function)
    candidates = (candidates,) if isinstance(candidates, str) else candidates or ()
    return next((key for key in candidates if key in result_keys), None)


def is_disentanglement(function):
    """Whether a metric function measures disentanglement (not TC, unfairness, accuracy or reconstruction)."""
    return function not in NOT_DISENTANGLEMENT
