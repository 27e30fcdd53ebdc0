"""Tests of dlib_torch/evaluation/metrics/fast_estimators.py: the fast mode's estimators agree with parity's."""
import numpy as np
from sklearn import ensemble
from sklearn import linear_model
from sklearn import model_selection
from sklearn import multiclass

from dlib_torch.evaluation.metrics import fast_estimators
from dlib_torch.evaluation.metrics import utils


def _codes(num_points, seed=0):
    """Factor 0 (4 values) read off code 0 with noise; codes 1-3 are noise."""
    random_state = np.random.RandomState(seed)
    factor = random_state.randint(4, size=num_points)
    codes = np.concatenate([factor[:, None] + random_state.normal(0, .3, size=(num_points, 1)),
                            random_state.normal(size=(num_points, 3))], axis=1)
    return codes, factor


def test_boosted_trees_importances_match_scikit_learns_exact_trees():
    codes, factor = _codes(400)
    fast = fast_estimators.HistGradientBoostingClassifier(random_state=0).fit(codes, factor)
    exact = ensemble.GradientBoostingClassifier(random_state=0).fit(codes, factor)
    assert abs(fast.feature_importances_.sum() - 1) < 1e-9
    assert np.argmax(fast.feature_importances_) == 0
    np.testing.assert_allclose(fast.feature_importances_, exact.feature_importances_, atol=.05)
    test_codes, test_factor = _codes(200, seed=1)
    assert abs(np.mean(fast.predict(test_codes) == test_factor)
               - np.mean(exact.predict(test_codes) == test_factor)) < .03


def test_logistic_regression_cv_matches_the_studys_one_vs_rest_model():
    codes, factor = _codes(300)
    fast = fast_estimators.LogisticRegressionCV().fit(codes, factor)
    study = multiclass.OneVsRestClassifier(linear_model.LogisticRegressionCV(
        Cs=10, cv=model_selection.KFold(n_splits=5), scoring="accuracy", max_iter=1000)).fit(codes, factor)
    np.testing.assert_array_equal(fast.C_, [estimator.C_[0] for estimator in study.estimators_])
    test_codes, _ = _codes(200, seed=1)
    assert np.mean(fast.predict(test_codes) == study.predict(test_codes)) >= .98


def test_logistic_regression_cv_two_classes_and_one_class():
    codes, factor = _codes(200)
    binary = factor % 2
    fast = fast_estimators.LogisticRegressionCV().fit(codes, binary)
    assert fast.coef_.shape == (1, 4) and set(fast.predict(codes)) <= {0, 1}
    constant = fast_estimators.LogisticRegressionCV().fit(codes, np.full(200, 3))
    assert set(constant.predict(codes)) == {3}


def test_estimators_follow_the_evaluation_mode():
    assert isinstance(utils.gradient_boosting_classifier(), utils.boosted_trees.GradientBoostingClassifier)
    with utils.evaluation_mode("fast"):
        assert isinstance(utils.gradient_boosting_classifier(), fast_estimators.HistGradientBoostingClassifier)
        assert not isinstance(utils.logistic_regression_cv(), fast_estimators.LogisticRegressionCV)
    assert utils.current_evaluation_mode() == "parity"
    assert isinstance(utils.logistic_regression_cv(solver="newton_path"), fast_estimators.LogisticRegressionCV)
