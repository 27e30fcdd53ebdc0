"""The correlation family of dtl_report (dlib_torch/visualize/report/correlation.py): models grouped by every setting
but the seed and the factor sampling, uncorrelated models in every pair's panel, the pair entanglement from
InfoMEC's NMI matrix, and a note instead of a figure when no model saw correlated factors."""
import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from dlib_torch.visualize.report import correlation
from dlib_torch.visualize.report import page as page_lib
from dlib_torch.visualize.report import records as records_lib

CORRELATED = {"posX–posY": "[('posX', 'posY')]", "shape–scale": "[('shape', 'scale')]"}


def nmi(entangled):
    """InfoMEC NMI keys [5 factors x 3 codes]: posX on code 0, posY on code 1; `entangled` of each on the other's."""
    matrix = np.zeros((5, 3))
    matrix[3, 0], matrix[4, 1] = 0.8, 0.7
    matrix[4, 0], matrix[3, 1] = entangled, entangled / 2
    return {"evaluation_results.nmi.factor_{}.code_{}".format(k, j): matrix[k, j] for k in range(5) for j in range(3)}


def records(models):
    """dci and infomec records of (method, beta, pair or None, sigma, seed, dci score, entanglement) models."""
    rows = []
    for number, (method, beta, pair, sigma, seed, dci, entangled) in enumerate(models):
        train = {"train_config.dataset.name": "'dsprites_procedural'", "train_config.model.name": "'{}'".format(method),
                 "train_config.model.model": "@vae()", "train_config.vae.beta": repr(beta),
                 "train_config.model.random_seed": str(seed), "train_config.model.model_num": str(number),
                 "train_results.uuid": "model{}".format(number),
                 "train_config.factor_sampling.mode": "'independent'" if pair is None else "'correlated'",
                 "train_config.factor_sampling.pairs": "None" if pair is None else CORRELATED[pair],
                 "train_config.factor_sampling.strengths": "None" if pair is None else "[{}]".format(sigma),
                 "postprocess_config.postprocess.name": "'mean'"}
        rows.append({**train, "evaluation_config.evaluation.name": "'dci'",
                     "evaluation_config.evaluation.evaluation_fn": "@dci", "evaluation_results.disentanglement": dci})
        rows.append({**train, "evaluation_config.evaluation.name": "'infomec'",
                     "evaluation_config.evaluation.evaluation_fn": "@infomec", "evaluation_results.infom": dci / 2,
                     **nmi(entangled)})
    return records_lib.Records(pd.DataFrame(rows))


MODELS = [  # method, beta, pair, sigma, seed, DCI, entanglement
    ("beta_vae", 4.0, None, None, 0, 0.6, 0.0), ("beta_vae", 4.0, None, None, 1, 0.4, 0.2),
    ("beta_vae", 4.0, "posX–posY", 0.4, 0.0, 0.3, 0.4), ("beta_vae", 4.0, "posX–posY", 0.4, 1, 0.3, 0.4),
    ("beta_vae", 4.0, "posX–posY", 0.2, 0, 0.1, 0.6), ("beta_vae", 8.0, "posX–posY", 0.2, 0, 0.2, 0.5),
    ("beta_vae_hfs", 4.0, "posX–posY", 0.2, 0, 0.5, 0.1), ("beta_vae", 4.0, "shape–scale", 0.2, 0, 0.2, 0.3),
]


def test_summary_groups_by_every_setting_but_the_seed(tmp_path):
    page = page_lib.Page(str(tmp_path), "t", dpi=40)
    correlation.add_to_page(page, records(MODELS))
    section = page.sections[-1]
    assert section.has_content and not section.notes
    summary = pd.read_csv(tmp_path / "tables" / "correlation_strength.csv")
    dci = summary[(summary["metric"] == "dci") & (summary["pair"] == "posX–posY")]
    by_group = {(row.group, row.strength): (row.mean, row.count) for row in dci.itertuples()}
    # vae.beta differs between the beta_vae groups, so it names them; the HFS model is its own method.
    assert by_group[("β-VAE (vae.beta=4.0)", np.inf)] == pytest.approx((0.5, 2))
    assert by_group[("β-VAE (vae.beta=4.0)", 0.4)] == pytest.approx((0.3, 2))
    assert by_group[("β-VAE (vae.beta=4.0)", 0.2)] == pytest.approx((0.1, 1))
    assert by_group[("β-VAE (vae.beta=8.0)", 0.2)] == pytest.approx((0.2, 1))
    assert by_group[("β-VAE + HFS", 0.2)] == pytest.approx((0.5, 1))
    # The uncorrelated models are also the first point of the other pair's panel.
    other = summary[(summary["metric"] == "dci") & (summary["pair"] == "shape–scale")]
    assert set(zip(other["group"], other["strength"])) == {("β-VAE (vae.beta=4.0)", np.inf),
                                                            ("β-VAE (vae.beta=4.0)", 0.2)}
    infom = summary[(summary["metric"] == "infomec") & (summary["pair"] == "posX–posY")
                    & (summary["strength"] == 0.4)]
    assert infom["mean"].tolist() == pytest.approx([0.15])  # InfoM, not InfoMEC's first key
    entanglement = summary[summary["metric"] == correlation.ENTANGLEMENT].set_index(["pair", "group", "strength"])
    # posX–posY: ½ (NMI[posY, code 0] + NMI[posX, code 1]) = ½ (e + e / 2).
    assert entanglement.loc[("posX–posY", "β-VAE (vae.beta=4.0)", 0.2), "mean"] == pytest.approx(0.75 * 0.6)
    assert entanglement.loc[("posX–posY", "β-VAE (vae.beta=4.0)", np.inf), "mean"] == pytest.approx(0.75 * 0.1)
    # shape–scale: both factors have no information on any code, their best codes are code 0.
    assert entanglement.loc[("shape–scale", "β-VAE (vae.beta=4.0)", 0.2), "mean"] == pytest.approx(0.0)
    figure = tmp_path / "correlation_dsprites_procedural.png"
    assert figure.exists() and Image.open(figure).size[0] > 200


def test_pair_entanglement_reads_both_directions():
    matrix = np.array([[0.9, 0.1, 0.0], [0.3, 0.0, 0.6]])
    assert correlation.pair_entanglement(matrix, 0, 1) == pytest.approx(0.5 * (0.3 + 0.0))
    assert correlation.pair_entanglement(matrix, 0, 5) is None
    assert correlation.factor_index("posY", correlation.dataset_factor_names("dsprites_full")) == 4
    assert correlation.factor_index("wall_hue", correlation.dataset_factor_names("shapes3d")) == 1
    assert correlation.factor_index(2, None) == 2


def test_without_correlated_models_the_figure_is_a_note(tmp_path):
    page = page_lib.Page(str(tmp_path), "t", dpi=40)
    correlation.add_to_page(page, records([m for m in MODELS if m[2] is None]))
    section = page.sections[-1]
    assert not section.has_content and "No model was trained on correlated factors" in section.notes[0]
    assert not os.path.exists(tmp_path / "tables")
