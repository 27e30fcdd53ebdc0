"""The report's pages on synthetic aggregated files shaped like each study's: every figure and table of the
study is drawn, with the expected rows and columns, and the page links every file it wrote."""
import html.parser
import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from dlib_torch.config import reproduce
from dlib_torch.visualize.report import records as records_lib
from dlib_torch.visualize.report import report
from dlib_torch.visualize.report import synthetic_records


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.captions, self._in_caption = [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.links.append(attrs["src"])
        elif tag == "a" and not attrs.get("href", "#").startswith("#"):
            self.links.append(attrs["href"])
        elif tag == "figcaption":
            self._in_caption = True

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data):
        if self._in_caption:
            self.captions.append(data)


def make_page(directory, records, study=None):
    """Writes `records` as dtl_aggregate does, loads them back and writes the page; returns (Page, html)."""
    path = os.path.join(directory, "results.json")
    synthetic_records.write_aggregate(records, path)
    loaded = records_lib.Records(records_lib.load([path]))
    output_dir = os.path.join(directory, "report")
    os.makedirs(output_dir)
    # A low resolution keeps the tests quick; the layout does not depend on it.
    page = report.write_page(output_dir, loaded, reproduce.get_study(study) if study else None, dpi=50)
    with open(os.path.join(output_dir, "index.html"), encoding="utf-8") as f:
        return page, f.read()


def written_files(output_dir):
    return sorted(os.path.relpath(os.path.join(root, name), output_dir) for root, _, names in os.walk(output_dir)
                  for name in names if name != "index.html")


def check_page_links_every_file(output_dir, text):
    parser = _Links()
    parser.feed(text)
    assert sorted(set(parser.links)) == written_files(output_dir)
    for link in parser.links:
        if link.endswith(".png"):
            with Image.open(os.path.join(output_dir, link)) as image:
                assert image.size[0] > 50 and image.size[1] > 50
    assert parser.captions and all("model" in caption for caption in parser.captions)
    return parser


def csv(output_dir, name):
    return pd.read_csv(os.path.join(output_dir, "tables", name + ".csv"))


@pytest.fixture(scope="module")
def unsupervised(tmp_path_factory):
    """24 models of unsupervised_study_v1 (2 data sets x 3 methods x 2 strengths x 2 seeds), both
    representations, the study's 9 metrics: 432 records."""
    model_nums = [1800 * d + 50 * (6 * m + h) + s for d in (0, 5) for m in (0, 1, 5) for h in (0, 3) for s in (0, 1)]
    directory = str(tmp_path_factory.mktemp("unsupervised"))
    records = synthetic_records.study_records("unsupervised_study_v1", model_nums)
    assert len(records) == 432
    page, text = make_page(directory, records, "unsupervised_study_v1")
    return os.path.join(directory, "report"), text


def test_unsupervised_study_figures_and_tables(unsupervised):
    output_dir, text = unsupervised
    for figure in ["rank_correlation", "score_by_method", "score_by_hyperparameter", "regularisation_strength",
                   "mean_vs_sampled", "unsupervised_vs_metrics"]:
        assert os.path.isfile(os.path.join(output_dir, figure + ".png")), figure
    check_page_links_every_file(output_dir, text)
    assert "24 of its 12,600 models are present (0.2%)" in text
    correlation = csv(output_dir, "rank_correlation")
    assert list(correlation.columns) == ["dataset", "metric_a", "metric_b", "spearman", "num_models"]
    assert len(correlation) == 2 * 9 * 9 and set(correlation["num_models"]) == {12}
    assert np.allclose(correlation.loc[correlation["metric_a"] == correlation["metric_b"], "spearman"], 1.0)
    strength = csv(output_dir, "regularisation_strength")
    assert len(strength) == 2 * 9 * 3 * 2 and set(strength["count"]) == {2}  # data set, metric, method, strength
    paired = csv(output_dir, "mean_vs_sampled")
    assert len(paired) == 2 * 9 and set(paired["models"]) == {12}
    versus = csv(output_dir, "unsupervised_vs_metrics")
    assert set(versus["score"]) == {"gaussian_total_correlation", "gaussian_wasserstein_correlation_norm",
                                    "mutual_info_score"}
    assert len(versus) == 2 * 3 * 6  # data sets x unsupervised scores x disentanglement metrics
    coverage = csv(output_dir, "coverage")
    assert coverage["models"].sum() == 24 and coverage["of study"].sum() == 12600
    # The families this study has no records for are listed once at the end, not drawn.
    assert "Not drawn from these records" in text and "No held_out_reconstruction records" in text


def test_fairness_study_draws_unfairness_against_every_disentanglement_metric(tmp_path):
    model_nums = [1800 * d + 50 * (6 * m + h) + s for d in (0, 2) for m in (0, 2) for h in (0, 5) for s in (0, 1)]
    records = synthetic_records.study_records("fairness_study_v1", model_nums, representations=["mean"],
                                              metrics=["fairness", "beta_vae_sklearn", "mig", "dci"])
    assert len(records) == 64
    page, text = make_page(str(tmp_path), records, "fairness_study_v1")
    output_dir = str(tmp_path / "report")
    check_page_links_every_file(output_dir, text)
    versus = csv(output_dir, "unfairness_vs_metrics")
    assert set(versus["metric"]) == {"beta_vae_sklearn", "mig", "dci"}
    assert set(versus["dataset"]) == {"dsprites_full", "noisy_dsprites"} and set(versus["models"]) == {8}
    assert "Mean vs sampled representation</b>: Needs records of both" in text


def test_generalisation_study_table_scatter_and_reconstructions(tmp_path):
    model_nums = [160 * d + 40 * c + 5 * m + s for d in (0, 1) for c in range(4) for m in range(8) for s in (0, 1)]
    root = str(tmp_path / "sweep")
    records = synthetic_records.study_records("generalisation_study_v1", model_nums, output_root=root)
    assert len(records) == 256
    # dtl_visualize's held-out panels of the first seed of dsprites' models; shapes3d has none.
    for n in [n for n in model_nums if n < 160 and n % 5 == 0]:
        panel = os.path.join(root, "generalisation_study_v1", str(n), "visualizations", "held_out")
        os.makedirs(panel)
        Image.fromarray(np.full((120, 200, 3), n, np.uint8)).save(os.path.join(panel, "train_vs_held_out.png"))
    page, text = make_page(str(tmp_path), records, "generalisation_study_v1")
    output_dir = str(tmp_path / "report")
    check_page_links_every_file(output_dir, text)
    assert os.path.isfile(os.path.join(output_dir, "generalisation_nll_vs_disentanglement.png"))
    table = csv(output_dir, "generalisation_dsprites_full")
    assert len(table) == 4 * 8 and set(table["models"]) == {2}
    assert list(table["condition"].unique()) == ["interpolation", "recombination_to_element",
                                                 "recombination_to_range", "extrapolation"]
    assert list(table["model_label"][:8]) == ["VAE", "β-VAE (β=8)", "β-VAE (β=12)", "FactorVAE (γ=20)",
                                              "FactorVAE (γ=50)", "FactorVAE (γ=100)", "AnnealedVAE (C=20)",
                                              "GT decoder"]
    # A cell is the mean over the seeds of that model's records (models 5 and 6: beta = 8, interpolation).
    train_nll = [r["evaluation_results.train_nll"] for r in records if r["train_config.model.model_num"] in
                 ("5", "6") and "evaluation_results.train_nll" in r]
    assert table.loc[1, "train_nll_mean"] == pytest.approx(np.mean(train_nll))
    assert set(table["d_key"]) == {"lasso_disentanglement"}
    # The paper's layout: one row per model, (condition, train NLL / held-out NLL / D) columns.
    assert "Recombination to range" in text and "held-out NLL" in text and " ± " in text
    copied = sorted(os.listdir(os.path.join(output_dir, "reconstructions")))
    assert len(copied) == 4 * 8 and all(name.startswith("dsprites_full") for name in copied)
    assert "32 of 64 configurations have a panel shown; 32 have no visualizations/held_out" in text
    # The panels follow the paper's order and are shown at their own size (scrolled, never shrunk, when narrow).
    gallery = text[text.index("dsprites_full · Interpolation</h3>"):text.index("dsprites_full · Recombination to "
                                                                             "element</h3>")]
    names = ["VAE (model 0)", "β-VAE (β=8)", "β-VAE (β=12)", "FactorVAE (γ=20)", "FactorVAE (γ=50)",
             "FactorVAE (γ=100)", "AnnealedVAE (C=20)", "GT decoder"]
    assert [gallery.index(name) for name in names] == sorted(gallery.index(name) for name in names)
    assert ".gallery img { max-width: none; }" in text and "td { white-space: nowrap; }" in text


def test_abstract_reasoning_and_composition_records(tmp_path):
    model_nums = list(range(0, 360, 15))
    records = synthetic_records.abstract_reasoning_records("abstract_reasoning_study_v1", model_nums)
    records += synthetic_records.study_records("abstract_reasoning_study_v1", model_nums, metrics=["mig", "dci"],
                                               representations=["mean"])
    composition_nums = [40 * c + 5 * m + s for c in range(4) for m in (0, 3, 7) for s in (0, 1, 2)]
    records += synthetic_records.study_records("generalisation_study_v1", composition_nums,
                                               metrics=["composition_reconstruction"], representations=["mean"])
    assert len(records) == 24 * 3 + 36
    page, text = make_page(str(tmp_path), records)
    output_dir = str(tmp_path / "report")
    check_page_links_every_file(output_dir, text)
    curves = csv(output_dir, "abstract_reasoning_accuracy")
    assert set(curves["step"]) == {1000, 2000, 5000, 10000} and set(curves["split"]) == {"val", "test"}
    best = csv(output_dir, "abstract_reasoning")
    assert best["models"].sum() == 24
    assert {"val accuracy mean", "test accuracy mean"} <= set(best.columns)
    composition = csv(output_dir, "composition_dsprites_full")
    assert len(composition) == 4 * 3 and set(composition["models"]) == {3}
    assert list(composition.columns[6:10]) == ["models", "train_nll mean", "train_nll std", "test_nll mean"]
    assert list(composition["condition"].unique()) == ["interpolation", "recombination_to_element",
                                                       "recombination_to_range", "extrapolation"]
    assert list(composition["model"][:3]) == ["VAE", "FactorVAE (γ=20)", "GT decoder"]
    # The page shows the NLLs, their ratio and where the held-out commands came from; the CSV every number.
    assert {"held_out_commands_from_training mean", "pixel_accuracy_gap mean"} <= set(composition.columns)
    section = text[text.index("<h2>Composition"):]
    section = section[:section.index("</section>")]
    header = section[section.index("<thead>"):section.index("</thead>")]
    assert [h for h in ("train NLL", "held-out NLL", "held-out / train", "held-out commands", "mse")
            if h in header] == ["train NLL", "held-out NLL", "held-out / train", "held-out commands"]
    assert "<div class='wide'>" in section


def test_a_users_study_with_few_columns_is_drawn_with_notes(tmp_path):
    """Records with no model name, no representation name and an unknown metric: skipped families are notes."""
    rng = np.random.RandomState(0)
    records = [{"train_config.dataset.name": "'my_data'", "train_config.model.model": "@vae()",
                "train_config.vae.beta": str(beta), "evaluation_config.evaluation.evaluation_fn": "@" + metric,
                "evaluation_results.my_score": float(rng.rand()), "evaluation_results.other": 1.0,
                "path": "runs/{}/{}/metrics/{}/results/aggregate/evaluation.json".format(beta, seed, metric)}
               for beta in (1, 4) for seed in range(3) for metric in ("mine", "theirs")]
    page, text = make_page(str(tmp_path), records)
    output_dir = str(tmp_path / "report")
    check_page_links_every_file(output_dir, text)
    assert "metric &#x27;mine&#x27; (mine) has no known main score; its figures show &#x27;my_score&#x27;" in text
    assert os.path.isfile(os.path.join(output_dir, "regularisation_strength.png"))
    assert csv(output_dir, "coverage")["models"].tolist() == [6]


def test_composers_of_different_lengths_are_not_averaged(tmp_path):
    """A 50-step and a 2,000-step Composer of one split are two rows, named by their lengths, not one 'mean'."""
    records = synthetic_records.study_records("composition_quickstart", [0, 1, 2],
                                              metrics=["composition_reconstruction"])
    short = [dict(r, **{"train_config.model.training_steps": "50", "train_results.uuid": "short" + str(i),
                        "path": r["path"].replace("composition_quickstart", "short")}) for i, r in enumerate(records)]
    page, text = make_page(str(tmp_path), records + short)
    composition = csv(str(tmp_path / "report"), "composition_dsprites_procedural")
    assert len(composition) == 6 and set(composition["models"]) == {1}
    steps = composition.groupby("condition")["model"].apply(sorted).tolist()
    assert all(len(models) == 2 and models[0].endswith("(model.training_steps=2000)") and
               models[1].endswith("(model.training_steps=50)") for models in steps), steps
