"""Unsupervised scores (Gaussian total correlation, Wasserstein dependency, mutual information of the codes)
against the disentanglement metrics, model by model (Locatello et al. 2019, Sec. 4.1 and Fig. 3)."""
from dlib_torch.visualize.report import versus

UNSUPERVISED_KEYS = ["gaussian_total_correlation", "gaussian_wasserstein_correlation_norm", "mutual_info_score"]


def add_to_page(page, records):
    representation = records.default_representation()
    section = page.section("Unsupervised scores vs disentanglement",
                           "Can a score computed without the factors (the total correlation of the codes, ...) "
                           "tell disentangled models apart? Each point is one model ({} representation).".format(
                               representation))
    frame = records.frame
    rows = (frame["metric_fn"] == "unsupervised_metrics") & (frame["representation"] == representation)
    keys = [k for k in UNSUPERVISED_KEYS if "evaluation_results." + k in frame.columns
            and frame.loc[rows, "evaluation_results." + k].notna().any()]
    if not rows.any() or not keys:
        section.note("No records of the unsupervised scores (@unsupervised_metrics) on the {} representation; "
                     "this comparison is skipped.".format(representation))
        return
    of_metric = frame.loc[rows, ["model_id", "dataset"] + ["evaluation_results." + k for k in keys]]
    x_scores = of_metric.melt(id_vars=["model_id", "dataset"], var_name="key", value_name="value")
    x_scores["key"] = x_scores["key"].str[len("evaluation_results."):]
    x_scores = x_scores.dropna(subset=["value"])
    versus.scatter_against_metrics(page, section, x_scores, records, representation, "unsupervised_vs_metrics",
                                   "Unsupervised scores (rows) against disentanglement metrics (columns)")
