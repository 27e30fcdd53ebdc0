"""Unfairness against disentanglement (Locatello et al., "On the Fairness of Disentangled Representations",
NeurIPS 2019): each model's unfairness of downstream predictions, averaged over target and sensitive factors,
against every disentanglement metric, and their rank correlation per data set."""
from dlib_torch.visualize.report import versus

UNFAIRNESS_KEYS = ["mean_fairness:mean_pred:mean_sens", "mean_fairness:mean_pred:max_sens"]


def add_to_page(page, records):
    representation = records.default_representation()
    section = page.section("Unfairness vs disentanglement",
                           "The unfairness of predictions made from the representation (total variation between "
                           "the predictions for each value of a sensitive factor, averaged over targets and "
                           "sensitive factors) against each disentanglement metric ({} representation).".format(
                               representation))
    frame = records.frame
    rows = (frame["metric_fn"] == "fairness") & (frame["representation"] == representation)
    keys = [k for k in UNFAIRNESS_KEYS if "evaluation_results." + k in frame.columns
            and frame.loc[rows, "evaluation_results." + k].notna().any()]
    if not rows.any() or not keys:
        section.note("No fairness records (@fairness) on the {} representation; this comparison is "
                     "skipped.".format(representation))
        return
    of_metric = frame.loc[rows, ["model_id", "dataset"] + ["evaluation_results." + k for k in keys]]
    x_scores = of_metric.melt(id_vars=["model_id", "dataset"], var_name="key", value_name="value")
    x_scores["key"] = x_scores["key"].str[len("evaluation_results."):].map(
        {"mean_fairness:mean_pred:mean_sens": "unfairness (mean over sensitive)",
         "mean_fairness:mean_pred:max_sens": "unfairness (max over sensitive)"})
    x_scores = x_scores.dropna(subset=["value"])
    versus.scatter_against_metrics(page, section, x_scores, records, representation, "unfairness_vs_metrics",
                                   "Unfairness (rows) against disentanglement metrics (columns)")
