"""Our stage-at-once gradient-boosted trees against scikit-learn's GradientBoostingClassifier, and in the metrics.

Where no two splits tie, the trees partition the training set as scikit-learn's do; where they tie (exactly
equal gains), scikit-learn's choice follows its feature order and rounding, ours ours: as accurate.
"""
import gin
import numpy as np
import pytest
from sklearn import ensemble

from dlib_torch.evaluation.metrics import boosted_trees
from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import downstream_task
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils.errors import ConfigError


def _problem(num_classes, num_samples, seed, integer_codes=False):
    """Codes [n, 6] and labels that depend on two codes with noise; integer codes have many tied values."""
    random_state = np.random.RandomState(seed)
    codes = random_state.randn(num_samples, 6)
    if integer_codes:
        codes = np.round(codes * 2)
    signal = codes[:, 0] + 0.5 * codes[:, 1] + 0.3 * random_state.randn(num_samples)
    labels = np.digitize(signal, np.quantile(signal, np.linspace(0, 1, num_classes + 1)[1:-1]))
    return codes, labels


def _fits(codes, labels, **parameters):
    return (boosted_trees.GradientBoostingClassifier(random_state=0, **parameters).fit(codes, labels),
            ensemble.GradientBoostingClassifier(random_state=0, **parameters).fit(codes, labels),
            ensemble.GradientBoostingClassifier(random_state=1, **parameters).fit(codes, labels))


@pytest.mark.parametrize("num_classes, integer_codes", [(2, False), (3, False), (3, True)])
def test_the_same_trees_as_sklearn_where_no_split_ties(num_classes, integer_codes):
    # Here every best split is unique (scikit-learn's own seeds agree): the same partitions of the training
    # set at every node of every tree, so the same training scores; importances differ only where two
    # features split the training set alike (the tree then says either).
    codes, labels = _problem(num_classes, 500, num_classes, integer_codes)
    test_codes, test_labels = _problem(num_classes, 500, 100 + num_classes, integer_codes)
    ours, sklearn_0, sklearn_1 = _fits(codes, labels)
    np.testing.assert_allclose(sklearn_1.decision_function(codes), sklearn_0.decision_function(codes), atol=1e-9)
    np.testing.assert_allclose(ours.decision_function(codes), sklearn_0.decision_function(codes), atol=1e-9)
    assert np.mean(ours.predict(test_codes) == sklearn_0.predict(test_codes)) >= 0.99
    assert ours.score(test_codes, test_labels) == pytest.approx(sklearn_0.score(test_codes, test_labels), abs=0.01)
    np.testing.assert_allclose(ours.feature_importances_, sklearn_0.feature_importances_, atol=0.005)
    assert ours.feature_importances_.sum() == pytest.approx(1.)


def test_as_good_as_sklearn_where_splits_tie():
    # Seven classes: many splits tie exactly (scikit-learn's seeds then pick different ones): as accurate.
    codes, labels = _problem(7, 500, 7)
    test_codes, test_labels = _problem(7, 500, 107)
    ours, sklearn_0, sklearn_1 = _fits(codes, labels)
    assert ours.score(codes, labels) == sklearn_0.score(codes, labels) == 1.
    assert ours.score(test_codes, test_labels) == pytest.approx(sklearn_0.score(test_codes, test_labels), abs=0.03)
    assert np.mean(ours.predict(test_codes) == sklearn_0.predict(test_codes)) >= 0.9
    np.testing.assert_allclose(ours.feature_importances_, sklearn_0.feature_importances_, atol=0.02)


def test_the_first_stage_is_sklearns_when_no_splits_tie():
    # Distinct continuous targets in a two-class problem only tie between samples with the same label, and a
    # depth-1 stump of one stage splits where the labels change: the same stump, threshold and leaf values.
    codes, labels = _problem(2, 300, 5)
    ours, sklearn_0, _ = _fits(codes, labels, n_estimators=1, max_depth=1)
    stump = sklearn_0.estimators_[0, 0].tree_
    assert ours.tree_features_[0, 0] == stump.feature[0]
    assert ours.tree_thresholds_[0, 0] == stump.threshold[0]
    np.testing.assert_allclose(ours.tree_values_[0], stump.value[1:, 0, 0], rtol=1e-12)
    np.testing.assert_allclose(ours.decision_function(codes), sklearn_0.decision_function(codes), rtol=1e-12)


def test_labels_deterministic_and_errors():
    codes, labels = _problem(3, 200, 0)
    names = np.array(["circle", "heart", "square"])[labels]
    model = boosted_trees.GradientBoostingClassifier(random_state=3, n_estimators=10).fit(codes, names)
    again = boosted_trees.GradientBoostingClassifier(random_state=3, n_estimators=10).fit(codes, names)
    assert set(model.predict(codes)) <= set(names)
    np.testing.assert_array_equal(model.decision_function(codes), again.decision_function(codes))
    with pytest.raises(ValueError, match="1 class"):
        boosted_trees.GradientBoostingClassifier().fit(codes, np.zeros(len(codes)))
    constant = boosted_trees.GradientBoostingClassifier(n_estimators=3).fit(np.zeros((20, 2)), labels[:20])
    np.testing.assert_array_equal(constant.feature_importances_, [0., 0.])


def test_gin_chooses_the_implementation():
    assert isinstance(utils.gradient_boosting_classifier(), boosted_trees.GradientBoostingClassifier)
    gin.bind_parameter("gradient_boosting_classifier.implementation", "sklearn")
    assert isinstance(utils.gradient_boosting_classifier(), ensemble.GradientBoostingClassifier)
    gin.bind_parameter("gradient_boosting_classifier.implementation", "xgboost")
    with pytest.raises(ConfigError, match="implementation is 'xgboost'; valid values: 'dlib_torch', 'sklearn'"):
        utils.gradient_boosting_classifier()


@pytest.mark.parametrize("name", ["rotated", "merged"])
def test_metrics_agree_with_the_reference_within_noise(reference, toy_data, representations, name):
    representation_function = representations[name]
    ours = dci.compute_dci(toy_data, representation_function, np.random.RandomState(2), num_train=300, num_test=200)
    theirs = reference.dci.compute_dci(toy_data, representation_function, np.random.RandomState(2),
                                       num_train=300, num_test=200)
    assert ours == pytest.approx(theirs, abs=0.05)
    gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
    reference.gin.bind("predictor", predictor_fn=reference.utils.gradient_boosting_classifier)
    ours = downstream_task.compute_downstream_task(toy_data, representation_function, np.random.RandomState(0),
                                                   num_train=[100], num_test=100)
    theirs = reference.downstream_task.compute_downstream_task(
        toy_data, representation_function, np.random.RandomState(0), num_train=[100], num_test=100)
    assert ours == pytest.approx(theirs, abs=0.05)
