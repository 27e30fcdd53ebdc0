"""fairness_study_v1: the models of unsupervised_study_v1 plus the fairness metric."""
import filecmp
import os

from dlib_torch.config import reproduce


def test_same_models_as_the_unsupervised_study():
    fairness = reproduce.get_study("fairness_study_v1")
    unsupervised = reproduce.get_study("unsupervised_study_v1")
    assert fairness.get_configs() == unsupervised.get_configs()
    assert fairness.get_model_config(5523)[0] == unsupervised.get_model_config(5523)[0]


def test_metrics_are_the_unsupervised_ones_plus_fairness():
    fairness = reproduce.get_study("fairness_study_v1")
    unsupervised = reproduce.get_study("unsupervised_study_v1")
    names = sorted(os.path.basename(p) for p in fairness.get_eval_config_files())
    assert names == sorted([os.path.basename(p) for p in unsupervised.get_eval_config_files()] + ["fairness.gin"])
    for path in unsupervised.get_eval_config_files():
        assert filecmp.cmp(path, os.path.join(fairness.folder, "metric_configs", os.path.basename(path)),
                           shallow=False)
    with open(os.path.join(fairness.folder, "metric_configs", "fairness.gin")) as f:
        lines = f.read().splitlines()
    assert "fairness.num_train = 10000" in lines and "fairness.num_test_points_per_class = 100" in lines
