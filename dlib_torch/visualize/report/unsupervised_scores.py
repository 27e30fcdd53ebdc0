"""Unsupervised scores (Gaussian total correlation, Wasserstein dependency, mutual information of the codes)
against the disentanglement metrics, model by model (Locatello et al. 2019, Sec. 4.1 and Fig. 3)."""
from dlib_torch.visualize.report import versus

UNSUPERVISED_KEYS = {key: key for key in
                     ["gaussian_total_correlation", "gaussian_wasserstein_correlation_norm", "mutual_info_score"]}


def add_to_page(page, records):
    versus.section_against_metrics(
        page, records, "Unsupervised scores vs disentanglement",
        "Can a score computed without the factors (the total correlation of the codes, ...) tell disentangled "
        "models apart? Each point is one model ({representation} representation).", "unsupervised_metrics",
        UNSUPERVISED_KEYS, "No records of the unsupervised scores (@unsupervised_metrics) on the {representation} "
        "representation; this comparison is skipped.", "unsupervised_vs_metrics",
        "Unsupervised scores (rows) against disentanglement metrics (columns)")
