"""Fairness: the reference's 3x3 and scores-dict expectations, parity with its code, the array-level entry."""
import itertools

import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import fairness
from dlib_torch.evaluation.metrics import utils


def test_inter_group_fairness():
    # Overall predictions 1/3 : 2/3; sensitive class 0 gives 0 : 1 (TV 1/3), class 1 gives 1/2 : 1/2 (TV 1/6).
    mean_fairness, max_fairness = fairness.inter_group_fairness(np.array([[0, 100], [100, 100]]))
    assert mean_fairness == pytest.approx(2. / 9.)
    assert max_fairness == pytest.approx(1. / 3.)


def test_compute_scores_dict():
    scores = np.array([[0., 2., 4.], [4., 0., 8.], [2., 10., 0.]])
    assert fairness.compute_scores_dict(scores, "test") == {
        "test:pred0:sens1": 2., "test:pred0:sens2": 4., "test:pred1:sens0": 4., "test:pred1:sens2": 8.,
        "test:pred2:sens0": 2., "test:pred2:sens1": 10.,
        "test:pred0:mean_sens": 3., "test:pred0:max_sens": 4., "test:pred1:mean_sens": 6.,
        "test:pred1:max_sens": 8., "test:pred2:mean_sens": 6., "test:pred2:max_sens": 10.,
        "test:sens0:mean_pred": 3., "test:sens0:max_pred": 4., "test:sens1:mean_pred": 6.,
        "test:sens1:max_pred": 10., "test:sens2:mean_pred": 6., "test:sens2:max_pred": 8.,
        "test:mean_sens:mean_pred": 5., "test:mean_sens:max_pred": 22. / 3., "test:max_sens:mean_pred": 6.,
        "test:max_sens:max_pred": 10., "test:mean_pred:mean_sens": 5., "test:mean_pred:max_sens": 22. / 3.,
        "test:max_pred:mean_sens": 6., "test:max_pred:max_sens": 10.,
    }


def test_reference_smoke_test_setting():
    """The reference's test runs the metric on DummyData (here with fewer points)."""
    gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
    scores = fairness.compute_fairness(dummy_data.DummyData(), lambda x: np.array(x, dtype=np.float64)[:, :4, 0, 0],
                                       np.random.RandomState(0), None, 100, 20)
    assert len(scores) == 2 * (10 * 9 + 4 * 10 + 8)
    assert 0. <= scores["mean_fairness:mean_pred:mean_sens"] <= 1.


def test_parity_with_reference(reference, seed_reference_trees, toy_data, representation):
    _, representation_function = representation
    gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
    reference.gin.bind("predictor", predictor_fn=reference.utils.gradient_boosting_classifier)
    ours = fairness.compute_fairness(toy_data, representation_function, np.random.RandomState(0), None, 150, 30)
    # Our classifiers' seeds derive from the random state after the training sample.
    random_state = np.random.RandomState(0)
    utils.generate_batch_factor_code(toy_data, representation_function, 150, random_state, 16)
    seed_reference_trees(utils.derived_seeds(random_state, 3))
    theirs = reference.fairness.compute_fairness(toy_data, representation_function, np.random.RandomState(0), None,
                                                 150, 30)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_from_codes_on_the_factor_grid():
    factors = np.array(list(itertools.product(range(3), range(4), range(5))))
    arguments = dict(predictor_fn=utils.gradient_boosting_classifier, num_train=200, num_test_points_per_class=30)
    fair = fairness.fairness_from_codes(factors.astype(float), factors, **arguments)
    assert fair["mean_fairness:mean_pred:mean_sens"] == pytest.approx(0., abs=0.02)
    # Factor 0 is only seen through its sum with factor 1: predicting it depends on factor 1.
    entangled = np.stack([factors[:, 0] + factors[:, 1], factors[:, 2]], axis=1).astype(float)
    unfair = fairness.fairness_from_codes(entangled, factors, **arguments)
    assert unfair["mean_fairness:pred0:sens1"] > 0.1
    assert unfair["mean_fairness:mean_pred:mean_sens"] > fair["mean_fairness:mean_pred:mean_sens"]


def test_from_codes_needs_the_counterfactual_rows():
    factors = np.array(list(itertools.product(range(3), range(4), range(5))))[:-5]
    with pytest.raises(Exception, match="do not occur in the rows"):
        fairness.fairness_from_codes(factors.astype(float), factors, utils.gradient_boosting_classifier,
                                     num_train=50, num_test_points_per_class=30)
