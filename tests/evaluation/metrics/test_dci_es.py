"""DCI-ES: explicitness from the paper's definition on hand-made loss-capacity curves, and its probes on codes."""
import numpy as np
import pytest

from dlib_torch.evaluation.metrics import dci_es
from dlib_torch.utils.errors import ConfigError


@pytest.mark.parametrize("losses, expected", [
    ([0., 0., 0.], 1.),              # the smallest probe is perfect
    ([0.6, 0.6, 0.6], 0.),           # no probe beats the constant baseline
    ([0.6, 0.3, 0.], 0.5),           # a straight line from the baseline to 0: half the rectangle
    ([0.6, 0.3, 0.5], 1. - (0.45 + 0.3) / 1.2),  # the curve keeps the lowest loss so far
    ([0.9, 0.3, 0.3], 1. - (0.45 + 0.3) / 1.2),  # a probe worse than the baseline counts as the baseline
])
def test_explicitness_is_one_minus_the_area_under_the_loss_capacity_curve(losses, expected):
    # Capacities 1, 2, 3; baseline loss 0.6; Z = (3 - 1) * 0.6 = 1.2.
    assert dci_es.explicitness([1, 2, 3], losses, 0.6) == pytest.approx(expected, abs=1e-12)


def test_uneven_capacities_and_a_single_probe():
    # Trapezoids over capacities 1, 2, 8: (0.5 + 0.25) / 2 * 1 + (0.25 + 0.25) / 2 * 6 = 1.875; Z = 7 * 0.5.
    assert dci_es.explicitness([1, 2, 8], [0.5, 0.25, 0.25], 0.5) == pytest.approx(1. - 1.875 / 3.5)
    assert dci_es.explicitness([4], [0.2], 0.8) == pytest.approx(0.75)
    assert dci_es.explicitness([1, 2], [0., 0.], 0.) is None  # a constant factor: nothing to explain


def test_the_two_baselines():
    # 'majority': the training set's majority class scored on the test set; the training mean's 1 - R².
    assert dci_es.baseline_loss(np.array([0, 0, 1]), np.array([0, 1, 1, 1])) == pytest.approx(0.75)
    assert dci_es.baseline_loss(np.array([0., 2.]), np.array([0., 2.]), continuous_factors=True) == pytest.approx(1.)
    # 'chance': the authors' script's values for MPI3D (factor sizes 6, 6, 2, 3, 3, 40, 40, the 1st, 2nd and 5th
    # classified, the others regressed): 5/6, 5/6, 1, 1, 2/3, 1, 1.
    sizes, classified = [6, 6, 2, 3, 3, 40, 40], [True, True, False, False, True, False, False]
    assert [dci_es.chance_loss(n, not c) for n, c in zip(sizes, classified)] == pytest.approx(
        [5. / 6, 5. / 6, 1., 1., 2. / 3, 1., 1.])


def test_an_unclipped_curve_above_the_baseline_gives_negative_explicitness():
    assert dci_es.explicitness([1, 2, 3], [0.9, 0.9, 0.6], 0.6, clip=False) == pytest.approx(1. - (0.9 + 0.75) / 1.2)
    assert dci_es.explicitness([1, 2, 3], [0.9, 0.9, 0.6], 0.6) == 0.


def _trapezoids(capacities, curve):
    return float(np.sum(0.5 * (curve[:-1] + curve[1:]) * np.diff(capacities)))


def test_an_entangled_code_under_each_baseline():
    # Rotated codes: no small probe predicts a factor well, so the baseline sets the scale of E. Each variant is
    # its definition applied to the recorded losses.
    factors, codes = _factors_and_codes(500, seed=3)
    codes = np.column_stack([codes[:, :3] @ np.linalg.qr(np.random.RandomState(4).normal(size=(3, 3)))[0],
                             codes[:, 3:]])
    capacities = (1, 2, 4)
    scores = {baseline: dci_es.dci_es_from_codes(codes[:300], factors[:300], codes[300:], factors[300:],
                                                 capacities=capacities, num_trees=10, baseline=baseline)
              for baseline in dci_es.BASELINES}
    for k in range(3):
        losses = np.array([scores["chance"]["loss.factor_{}.capacity_{}".format(k, c)] for c in capacities])
        curve = np.minimum.accumulate(losses)
        assert scores["chance"]["baseline_loss.factor_{}".format(k)] == pytest.approx(0.75)  # 4 values
        assert scores["chance"]["explicitness.factor_{}".format(k)] == pytest.approx(
            1. - _trapezoids(capacities, curve) / (3 * 0.75))
        majority = scores["majority"]["baseline_loss.factor_{}".format(k)]
        assert majority == pytest.approx(1. - np.mean(factors[300:, k] == np.bincount(factors[:300, k]).argmax()))
        assert scores["majority"]["explicitness.factor_{}".format(k)] == pytest.approx(
            1. - _trapezoids(capacities, np.minimum(curve, majority)) / (3 * majority))
    assert scores["chance"]["explicitness"] != scores["majority"]["explicitness"]
    assert scores["chance"]["disentanglement"] == scores["majority"]["disentanglement"]  # same probes


def test_the_baseline_is_validated_first(toy_data):
    with pytest.raises(ConfigError, match="dci_es.baseline = 'random' is not allowed"):
        dci_es.compute_dci_es(toy_data, lambda x: x, np.random.RandomState(0), num_train=10, num_test=10,
                              baseline="random")


def _factors_and_codes(num_points=900, seed=0):
    rs = np.random.RandomState(seed)
    factors = rs.randint(4, size=(num_points, 3))
    codes = np.column_stack([factors + 0.05 * rs.normal(size=factors.shape), rs.normal(size=(num_points, 2))])
    return factors, codes


def test_identity_codes_are_explicit_and_rotated_ones_less_disentangled():
    factors, codes = _factors_and_codes()
    split = 600
    scores = dci_es.dci_es_from_codes(codes[:split], factors[:split], codes[split:], factors[split:], num_trees=10)
    assert scores["explicitness"] > 0.9
    assert scores["informativeness_test"] > 0.95
    assert scores["size"] == pytest.approx(3. / 5.)
    assert scores["best_capacity"] in dci_es.DEFAULT_CAPACITIES
    assert {"loss.factor_0.capacity_1", "explicitness.factor_2"} <= set(scores)
    rotation = np.linalg.qr(np.random.RandomState(1).normal(size=(3, 3)))[0]
    rotated = np.column_stack([codes[:, :3] @ rotation, codes[:, 3:]])
    mixed = dci_es.dci_es_from_codes(rotated[:split], factors[:split], rotated[split:], factors[split:], num_trees=10)
    assert mixed["disentanglement"] < scores["disentanglement"] - 0.3
    assert mixed["explicitness"] < scores["explicitness"]
    noise = np.random.RandomState(2).normal(size=codes.shape)
    useless = dci_es.dci_es_from_codes(noise[:split], factors[:split], noise[split:], factors[split:], num_trees=10)
    assert useless["explicitness"] < 0.1


def test_parallel_fits_are_identical_to_serial_and_runs_are_deterministic(toy_data, monkeypatch):
    arguments = dict(num_train=300, num_test=200, capacities=(1, 3), num_trees=5)
    serial = dci_es.compute_dci_es(toy_data, lambda x: x[:, :4], np.random.RandomState(0), **arguments)
    assert dci_es.compute_dci_es(toy_data, lambda x: x[:, :4], np.random.RandomState(0), **arguments) == serial
    monkeypatch.setenv("DTL_NUM_JOBS", "2")
    assert dci_es.compute_dci_es(toy_data, lambda x: x[:, :4], np.random.RandomState(0), **arguments) == serial


def test_continuous_factors_and_bad_capacities():
    factors, codes = _factors_and_codes(300)
    scores = dci_es.dci_es_from_codes(codes[:200], factors[:200] * 1., codes[200:], factors[200:] * 1.,
                                      capacities=(2, 4), num_trees=5, continuous_factors=True)
    assert scores["explicitness"] > 0.8
    with pytest.raises(ValueError, match="increasing positive depths"):
        dci_es.dci_es_from_codes(codes, factors, codes, factors, capacities=(4, 2))
