"""Our gradient-boosted trees against scikit-learn's GradientBoostingClassifier: the same random_state grows the
same trees, bit for bit, on tied inputs above all (duplicated, constant and quantized codes, copied samples)."""
import gin
import numpy as np
import pytest
import sklearn
from sklearn import ensemble

from dlib_torch.evaluation.metrics import boosted_trees
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils.errors import ConfigError


def _codes(kind, num_samples, num_classes, seed):
    """Codes [n, 6] and labels read off codes 0 and 5 with noise, with the ties of `kind`."""
    random_state = np.random.RandomState(seed)
    codes = random_state.randn(num_samples, 6).astype(np.float32)
    if kind == "duplicated":  # two pairs of identical columns
        codes[:, 1], codes[:, 3] = codes[:, 0], codes[:, 2]
    elif kind == "dead":  # constant columns, as dead latents
        codes[:, 1], codes[:, 4] = 0., 3.
    elif kind == "quantized":  # few values per code, many ties within and across columns
        codes = np.round(codes * 2)
    elif kind == "copies":  # repeated samples (the same image drawn twice), and some with another label
        codes[num_samples // 2:] = codes[:num_samples - num_samples // 2]
    elif kind == "all":  # quantized, a duplicated and a dead column at once
        codes = np.round(codes * 2)
        codes[:, 1], codes[:, 2] = codes[:, 0], 1.
    signal = codes[:, 0] + 0.5 * codes[:, 5] + 0.3 * random_state.randn(num_samples)
    labels = np.digitize(signal, np.quantile(signal, np.linspace(0, 1, num_classes + 1)[1:-1]))
    return codes, labels


def _assert_same_trees(ours, theirs):
    assert ours.n_estimators_ == theirs.n_estimators_ and ours.trees_per_stage_ == theirs.estimators_.shape[1]
    for index, tree in enumerate(ours.trees_):
        their_tree = theirs.estimators_[index // ours.trees_per_stage_, index % ours.trees_per_stage_].tree_
        count = tree.node_count
        assert count == their_tree.node_count, index
        for name in ("children_left", "children_right", "feature", "threshold", "impurity",
                     "weighted_n_node_samples"):
            np.testing.assert_array_equal(getattr(tree, name)[:count], getattr(their_tree, name), err_msg=name)
        np.testing.assert_array_equal(tree.value[:count], their_tree.value[:, 0, 0])


@pytest.mark.parametrize("kind, num_classes", [("duplicated", 3), ("dead", 3), ("quantized", 3), ("copies", 3),
                                               ("all", 3), ("all", 2), ("generic", 7)])
def test_the_same_trees_as_sklearn_seed_for_seed(kind, num_classes):
    # Every tree, node for node; importances, scores and predictions bit for bit, over 20 seeds.
    for seed in range(20):
        codes, labels = _codes(kind, 120, num_classes, seed)
        test_codes, _ = _codes(kind, 50, num_classes, 100 + seed)
        ours = boosted_trees.GradientBoostingClassifier(n_estimators=8, random_state=seed).fit(codes, labels)
        theirs = ensemble.GradientBoostingClassifier(n_estimators=8, random_state=seed).fit(codes, labels)
        _assert_same_trees(ours, theirs)
        np.testing.assert_array_equal(ours.feature_importances_, theirs.feature_importances_)
        np.testing.assert_array_equal(ours.decision_function(test_codes), theirs.decision_function(test_codes))
        np.testing.assert_array_equal(ours.predict(test_codes), theirs.predict(test_codes))


def test_duplicated_codes_split_as_sklearn_at_full_length():
    # The case: a code duplicated (tied columns) in a dSprites-sized problem with every default
    # (100 stages); scikit-learn's own seeds disagree on which copy gets the importance, ours agree with each.
    codes, labels = _codes("duplicated", 600, 4, 0)
    importances = []
    for seed in (0, 1):
        ours = boosted_trees.GradientBoostingClassifier(random_state=seed).fit(codes, labels)
        theirs = ensemble.GradientBoostingClassifier(random_state=seed).fit(codes, labels)
        np.testing.assert_array_equal(ours.feature_importances_, theirs.feature_importances_)
        np.testing.assert_array_equal(ours.decision_function(codes), theirs.decision_function(codes))
        importances.append(ours.feature_importances_)
    assert not np.array_equal(importances[0], importances[1])


def test_a_shared_random_state_is_drawn_from_as_sklearn_draws_from_it():
    codes, labels = _codes("all", 100, 3, 4)
    ours = boosted_trees.GradientBoostingClassifier(n_estimators=5, random_state=np.random.RandomState(9))
    theirs = ensemble.GradientBoostingClassifier(n_estimators=5, random_state=np.random.RandomState(9))
    _assert_same_trees(ours.fit(codes, labels), theirs.fit(codes, labels))
    assert ours.random_state.randint(1 << 30) == theirs.random_state.randint(1 << 30)


def test_labels_determinism_and_errors():
    codes, labels = _codes("generic", 200, 3, 0)
    names = np.array(["circle", "heart", "square"])[labels]
    model = boosted_trees.GradientBoostingClassifier(random_state=3, n_estimators=10).fit(codes, names)
    again = boosted_trees.GradientBoostingClassifier(random_state=3, n_estimators=10).fit(codes, names)
    assert set(model.predict(codes)) <= set(names)
    np.testing.assert_array_equal(model.decision_function(codes), again.decision_function(codes))
    with pytest.raises(ValueError, match="1 class"):
        boosted_trees.GradientBoostingClassifier().fit(codes, np.zeros(len(codes)))
    with pytest.raises(ValueError, match="NaN"):
        boosted_trees.GradientBoostingClassifier().fit(np.full((20, 2), np.nan), labels[:20])
    constant = boosted_trees.GradientBoostingClassifier(n_estimators=3).fit(np.zeros((20, 2)), labels[:20])
    np.testing.assert_array_equal(constant.feature_importances_, [0., 0.])


def test_gin_chooses_the_implementation(monkeypatch):
    assert boosted_trees.ports_installed_sklearn()  # the tests above compare with this scikit-learn
    assert isinstance(utils.gradient_boosting_classifier(), boosted_trees.GradientBoostingClassifier)
    monkeypatch.setattr(sklearn, "__version__", "1.8.2")  # a release whose trees this port does not copy
    assert not boosted_trees.ports_installed_sklearn()
    assert isinstance(utils.gradient_boosting_classifier(), ensemble.GradientBoostingClassifier)
    monkeypatch.undo()
    gin.bind_parameter("gradient_boosting_classifier.implementation", "sklearn")
    assert isinstance(utils.gradient_boosting_classifier(), ensemble.GradientBoostingClassifier)
    gin.bind_parameter("gradient_boosting_classifier.implementation", "xgboost")
    with pytest.raises(ConfigError, match="implementation is 'xgboost'; valid values: 'dlib_torch', 'sklearn'"):
        utils.gradient_boosting_classifier()
