"""The fast mode's estimators (compiled_boosted_trees.py, newton_logistic_regression.py) agree with parity's."""
import numpy as np
import pytest
from sklearn import ensemble
from sklearn import linear_model
from sklearn import model_selection
from sklearn import multiclass

from dlib_torch.evaluation.metrics import boosted_trees
from dlib_torch.evaluation.metrics import compiled_boosted_trees
from dlib_torch.evaluation.metrics import newton_logistic_regression
from dlib_torch.evaluation.metrics import utils


def _codes(num_points, seed=0):
    """Factor 0 (4 values) read off code 0 with noise; codes 1-3 are noise."""
    random_state = np.random.RandomState(seed)
    factor = random_state.randint(4, size=num_points)
    codes = np.concatenate([factor[:, None] + random_state.normal(0, .3, size=(num_points, 1)),
                            random_state.normal(size=(num_points, 3))], axis=1)
    return codes, factor


def test_compiled_trees_are_paritys_trees_up_to_near_ties():
    codes, factor = _codes(400)
    compiled = compiled_boosted_trees.GradientBoostingClassifier(random_state=0).fit(codes, factor)
    parity = boosted_trees.GradientBoostingClassifier(random_state=0).fit(codes, factor)
    # Trees may differ where splits tie up to rounding: inside nodes whose gradients are all equal (every split
    # has the same gain) and between candidates whose gains agree to the last bits; predictions barely move.
    assert abs(compiled.feature_importances_.sum() - 1) < 1e-9
    np.testing.assert_allclose(compiled.feature_importances_, parity.feature_importances_, atol=.01)
    test_codes, test_factor = _codes(200, seed=1)
    assert np.mean(compiled.predict(test_codes) == parity.predict(test_codes)) >= .97
    np.testing.assert_allclose(compiled.score(test_codes, test_factor), parity.score(test_codes, test_factor),
                               atol=.02)
    exact = ensemble.GradientBoostingClassifier(random_state=0).fit(codes, factor)  # scikit-learn itself
    np.testing.assert_allclose(compiled.feature_importances_, exact.feature_importances_, atol=.01)


def test_compiled_trees_first_stage_equals_parity_and_two_classes_and_discrete_codes():
    codes, factor = _codes(300)
    compiled = compiled_boosted_trees.GradientBoostingClassifier(n_estimators=1, random_state=0).fit(codes, factor)
    parity = boosted_trees.GradientBoostingClassifier(n_estimators=1, random_state=0).fit(codes, factor)
    # The first two levels split alike, except nodes whose gradients are all equal up to rounding (parity, as
    # scikit-learn, may split those on noise above machine epsilon; the compiled trees' sums may not).
    thresholds, real = zip(*[_top_thresholds(tree) for tree in parity.trees_])
    real = np.array(real)
    np.testing.assert_array_equal(compiled.tree_thresholds_[:, :3][real], np.array(thresholds)[real])
    np.testing.assert_allclose(compiled.decision_function(codes), parity.decision_function(codes), atol=1e-9)
    binary = compiled_boosted_trees.GradientBoostingClassifier(random_state=0).fit(codes, factor % 2)
    assert binary.decision_function(codes).shape == (300,) and set(binary.predict(codes)) <= {0, 1}
    discrete = np.round(codes)  # few distinct values: ties between features are broken by random_state
    first = compiled_boosted_trees.GradientBoostingClassifier(random_state=3).fit(discrete, factor)
    again = compiled_boosted_trees.GradientBoostingClassifier(random_state=3).fit(discrete, factor)
    np.testing.assert_array_equal(first.feature_importances_, again.feature_importances_)
    with pytest.raises(ValueError, match="minimum of 2 classes"):
        compiled_boosted_trees.GradientBoostingClassifier().fit(codes, np.zeros(300))


def _top_thresholds(tree):
    """A parity tree's thresholds of its first two levels in the compiled trees' heap layout (inf: no split), and
    which of these nodes hold gradients that differ by more than rounding."""
    nodes = [0, tree.children_left[0], tree.children_right[0]]
    thresholds = [tree.threshold[n] if n >= 0 and tree.children_left[n] >= 0 else np.inf for n in nodes]
    return thresholds, [n < 0 or tree.impurity[n] > 1e-12 for n in nodes]


def test_logistic_regression_cv_matches_the_studys_one_vs_rest_model():
    codes, factor = _codes(300)
    fast = newton_logistic_regression.LogisticRegressionCV().fit(codes, factor)
    study = multiclass.OneVsRestClassifier(linear_model.LogisticRegressionCV(
        Cs=10, cv=model_selection.KFold(n_splits=5), scoring="accuracy", max_iter=1000)).fit(codes, factor)
    np.testing.assert_array_equal(fast.C_, [estimator.C_[0] for estimator in study.estimators_])
    test_codes, _ = _codes(200, seed=1)
    assert np.mean(fast.predict(test_codes) == study.predict(test_codes)) >= .98


def test_logistic_regression_cv_two_classes_and_one_class():
    codes, factor = _codes(200)
    binary = factor % 2
    fast = newton_logistic_regression.LogisticRegressionCV().fit(codes, binary)
    assert fast.coef_.shape == (1, 4) and set(fast.predict(codes)) <= {0, 1}
    constant = newton_logistic_regression.LogisticRegressionCV().fit(codes, np.full(200, 3))
    assert set(constant.predict(codes)) == {3}


def test_estimators_follow_the_evaluation_mode():
    assert isinstance(utils.gradient_boosting_classifier(), utils.boosted_trees.GradientBoostingClassifier)
    with utils.evaluation_mode("fast"):
        assert isinstance(utils.gradient_boosting_classifier(), compiled_boosted_trees.GradientBoostingClassifier)
        assert not isinstance(utils.logistic_regression_cv(), newton_logistic_regression.LogisticRegressionCV)
    assert utils.current_evaluation_mode() == "parity"
    assert isinstance(utils.logistic_regression_cv(solver="newton_path"),
                      newton_logistic_regression.LogisticRegressionCV)
