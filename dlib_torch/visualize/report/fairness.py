"""Unfairness against disentanglement (Locatello et al., "On the Fairness of Disentangled Representations",
NeurIPS 2019): each model's unfairness of downstream predictions, averaged over target and sensitive factors,
against every disentanglement metric, and their rank correlation per data set."""
from dlib_torch.visualize.report import versus

UNFAIRNESS_KEYS = {"mean_fairness:mean_pred:mean_sens": "unfairness (mean over sensitive)",
                   "mean_fairness:mean_pred:max_sens": "unfairness (max over sensitive)"}


def add_to_page(page, records):
    versus.section_against_metrics(
        page, records, "Unfairness vs disentanglement",
        "The unfairness of predictions made from the representation (total variation between the predictions for "
        "each value of a sensitive factor, averaged over targets and sensitive factors) against each "
        "disentanglement metric ({representation} representation).", "fairness", UNFAIRNESS_KEYS,
        "No fairness records (@fairness) on the {representation} representation; this comparison is skipped.",
        "unfairness_vs_metrics", "Unfairness (rows) against disentanglement metrics (columns)")
