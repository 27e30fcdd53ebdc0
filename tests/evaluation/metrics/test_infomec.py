"""InfoMEC: analytic cases (identity, rotated, pruned latents), the paper's definitions computed here by hand, and
the authors' own code on degenerate codes (a fixture): NaN where it gives NaN, and NaN through records and
aggregation."""
import itertools
import json
import logging
import os

import numpy as np
import pytest

from dlib_torch.evaluation.metrics import infomec
from dlib_torch.utils import aggregate_results
from dlib_torch.utils import results


def _grid(*sizes, repeats=4):
    """Every combination of factor values, `repeats` times: factors exactly independent in the sample."""
    return np.array(list(itertools.product(*[range(n) for n in sizes])) * repeats)


def _mutual_information(a, b):
    """I(a; b) in nats from the joint counts of two label vectors (the paper's plug-in estimate)."""
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.)
    joint /= joint.sum()
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    return float(np.sum(joint[nonzero] * np.log(joint[nonzero] / outer[nonzero])))


def test_identity_codes_are_perfectly_modular_compact_and_explicit():
    factors = _grid(3, 4, 5)
    scores = infomec.infomec_from_codes(factors, factors, discrete_latents=True)
    assert scores["infom"] == pytest.approx(1., abs=1e-12)
    assert scores["infoc"] == pytest.approx(1., abs=1e-12)
    assert scores["infoe"] > 0.99
    assert scores["num_active_latents"] == 3
    noisy = factors + 0.05 * np.random.RandomState(0).normal(size=factors.shape)
    continuous = infomec.infomec_from_codes(noisy, factors)
    assert continuous["infom"] > 0.9 and continuous["infoc"] > 0.9 and continuous["infoe"] > 0.99


def test_rotated_codes_are_less_modular_and_compact():
    factors = _grid(4, 4, 4)
    rs = np.random.RandomState(0)
    codes = (factors - 1.5) + 0.05 * rs.normal(size=factors.shape)
    rotation = np.linalg.qr(rs.normal(size=(3, 3)))[0]
    aligned = infomec.infomec_from_codes(codes, factors)
    rotated = infomec.infomec_from_codes(codes @ rotation, factors)
    assert rotated["infom"] < aligned["infom"] - 0.3
    assert rotated["infoc"] < aligned["infoc"] - 0.3
    assert rotated["infoe"] > 0.9  # a rotation loses no information a linear probe can read


def test_constant_and_tiny_latents_are_pruned():
    factors = _grid(3, 4)
    rs = np.random.RandomState(1)
    codes = factors + 0.05 * rs.normal(size=factors.shape)
    padded = np.column_stack([codes, np.full(len(codes), 7.), 0.01 * rs.normal(size=len(codes))])
    plain, pruned = infomec.infomec_from_codes(codes, factors), infomec.infomec_from_codes(padded, factors)
    assert pruned["num_active_latents"] == 2
    assert pruned["infom"] == pytest.approx(plain["infom"], abs=1e-12)
    assert pruned["infoc"] == pytest.approx(plain["infoc"], abs=1e-12)
    assert infomec.active_latents(np.array([[0, 1], [0, 2]]), discrete_latents=True).tolist() == [False, True]


def test_matches_the_papers_definitions_on_a_small_discrete_code():
    rs = np.random.RandomState(2)
    factors = rs.randint(3, size=(60, 2))
    # Latent 0 copies factor 0; latent 1 mixes both factors; latent 2 is factor 1 with a few values flipped.
    flipped = np.where(rs.rand(60) < 0.2, (factors[:, 1] + 1) % 3, factors[:, 1])
    latents = np.column_stack([factors[:, 0], (factors[:, 0] + factors[:, 1]) % 3, flipped])
    nmi = np.array([[_mutual_information(factors[:, k], latents[:, j]) / _mutual_information(factors[:, k],
                                                                                             factors[:, k])
                     for j in range(3)] for k in range(2)])
    infom = (np.mean(nmi.max(axis=0) / nmi.sum(axis=0)) - 1. / 2) / (1. - 1. / 2)
    infoc = (np.mean(nmi.max(axis=1) / nmi.sum(axis=1)) - 1. / 3) / (1. - 1. / 3)
    scores = infomec.infomec_from_codes(latents, factors, discrete_latents=True)
    assert scores["infom"] == pytest.approx(infom, abs=1e-12)
    assert scores["infoc"] == pytest.approx(infoc, abs=1e-12)
    for k in range(2):
        for j in range(3):
            assert scores["nmi.factor_{}.code_{}".format(k, j)] == pytest.approx(nmi[k, j], abs=1e-12)


def test_infoe_is_the_predictive_information_against_the_marginal():
    factors = _grid(2, 3, repeats=10)
    # Constant latents predict nothing: the log loss of the marginal, InfoE = 0.
    assert infomec.infoe(factors, np.ones((len(factors), 2))) == pytest.approx(0., abs=1e-6)
    # The marginal model's loss is the factor's entropy (balanced classes), in nats.
    assert infomec.logistic_regression_log_loss(np.zeros((len(factors), 1)), factors[:, 1]) == \
        pytest.approx(np.log(3), abs=1e-6)


def test_end_to_end_on_sampled_data_is_deterministic(toy_data):
    first = infomec.compute_infomec(toy_data, lambda x: x[:, :3], np.random.RandomState(0), num_train=300)
    second = infomec.compute_infomec(toy_data, lambda x: x[:, :3], np.random.RandomState(0), num_train=300)
    assert first == second
    assert first["infom"] > 0.8 and first["infoc"] > 0.8 and first["infoe"] > 0.9
    noise = infomec.compute_infomec(toy_data, lambda x: x[:, 3:], np.random.RandomState(0), num_train=300)
    assert noise["infoe"] < 0.1


def test_parallel_fits_are_identical_to_serial(toy_data, monkeypatch):
    serial = infomec.compute_infomec(toy_data, lambda x: x[:, 1:5], np.random.RandomState(0), num_train=200)
    monkeypatch.setenv("DTL_NUM_JOBS", "2")
    assert infomec.compute_infomec(toy_data, lambda x: x[:, 1:5], np.random.RandomState(0), num_train=200) == serial


AUTHORS_FIXTURE = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "fixtures", "infomec",
                               "authors_degenerate.json")


def _authors_cases():
    with open(AUTHORS_FIXTURE) as f:
        return json.load(f)


def _as_nan(value):
    return np.nan if value is None else value


@pytest.mark.parametrize("case", ["regular", "one_active_latent", "factor_without_information",
                                  "latent_without_information", "single_factor"])
def test_the_authors_scores_and_nans_on_degenerate_codes(case, caplog):
    # tests/fixtures/infomec/make_fixture.py ran the authors' compute_infomec on these codes.
    theirs = _authors_cases()[case]
    factors, latents = np.array(theirs["factors"]), np.array(theirs["latents"], dtype=np.float64)
    with caplog.at_level(logging.WARNING):
        ours = infomec.infomec_from_codes(latents, factors, discrete_latents=True)
    for key in ("infom", "infoc"):
        np.testing.assert_allclose(ours[key], _as_nan(theirs[key]), rtol=0, atol=1e-12, err_msg=key)
    # InfoE: unpenalised logistic regressions stopped by the 100-iteration limit, in another scikit-learn release.
    assert ours["infoe"] == pytest.approx(theirs["infoe"], abs=1e-3)
    nmi = np.array([[ours["nmi.factor_{}.code_{}".format(k, j)] for j in range(latents.shape[1])]
                    for k in range(factors.shape[1])])
    np.testing.assert_allclose(nmi, np.array(theirs["nmi"], dtype=np.float64), rtol=0, atol=1e-12)
    warnings = [r.getMessage() for r in caplog.records if r.getMessage().startswith("infomec:")]
    nans = [name for name in ("InfoM", "InfoC") if np.isnan(ours[name.lower()])]
    if nans:  # one line, naming each NaN score and why
        assert len(warnings) == 1 and all("{} is NaN".format(name) in warnings[0] for name in nans), warnings
    else:
        assert not warnings


def test_a_constant_factor_is_left_out_where_the_authors_code_raises(caplog):
    case = _authors_cases()["constant_factor"]
    assert case["raises"].startswith("ValueError")  # their logistic regression needs two classes
    factors, latents = np.array(case["factors"]), np.array(case["latents"], dtype=np.float64)
    with caplog.at_level(logging.WARNING):
        ours = infomec.infomec_from_codes(latents, factors, discrete_latents=True)
    without = infomec.infomec_from_codes(latents, factors[:, [0, 2]], discrete_latents=True)
    for key in ("infom", "infoc", "infoe"):
        assert ours[key] == pytest.approx(without[key], abs=1e-12)
    assert np.isnan(ours["nmi.factor_1.code_0"]) and np.isnan(ours["nmi.factor_1.code_1"])
    assert any(r.getMessage() == "infomec: constant factor(s) 1 left out." for r in caplog.records)


def test_no_active_latent_gives_nan_where_the_authors_code_raises(caplog):
    case = _authors_cases()["no_active_latent"]
    assert case["raises"].startswith("ValueError")
    factors, latents = np.array(case["factors"]), np.array(case["latents"], dtype=np.float64)
    with caplog.at_level(logging.WARNING):
        ours = infomec.infomec_from_codes(latents, factors, discrete_latents=True)
    assert np.isnan(ours["infom"]) and np.isnan(ours["infoc"]) and ours["num_active_latents"] == 0
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("infomec:")] == [
        "infomec: InfoM and InfoC are NaN: no latent is active."]


def test_nan_scores_survive_the_records_and_the_aggregation(tmp_path):
    scores = infomec.infomec_from_codes(np.column_stack([np.arange(24) % 3, np.zeros(24)]),
                                        np.column_stack([np.arange(24) % 3, np.arange(24) % 4]),
                                        discrete_latents=True)
    assert np.isnan(scores["infoc"])  # a single active latent
    record_dir = tmp_path / "metrics" / "infomec" / "results"
    results.update_result_directory(str(record_dir), "evaluation", dict(scores, elapsed_time=0.))
    with open(record_dir / "aggregate" / "evaluation.json") as f:
        assert np.isnan(json.load(f)["evaluation_results.infoc"])  # JSON's NaN, as the reference writes it
    summary = aggregate_results.aggregate_results_to_json(str(tmp_path / "**" / "aggregate" / "evaluation.json"),
                                                          str(tmp_path / "all.json"), num_processes=1)
    assert summary.num_records == 1 and summary.num_skipped == 0
    frame = aggregate_results.load_aggregated_json_results(str(tmp_path / "all.json"))
    assert np.isnan(frame["evaluation_results.infoc"][0])
    assert frame["evaluation_results.infom"][0] == pytest.approx(scores["infom"])
