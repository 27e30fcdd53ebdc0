"""The test study: three tiny models, mean and sampled representations, two cheap metrics."""
import os

from dlib_torch.config import reproduce


def test_test_study():
    study = reproduce.get_study("test")
    assert study.num_models() == 3
    bindings, config_file = study.get_model_config(1)
    assert "held_out.split = 'shape2tx'" in bindings
    assert os.path.basename(config_file) == "train_test.gin"
    assert [os.path.basename(p) for p in study.get_postprocess_config_files()] == ["mean.gin", "sampled.gin"]
    assert [os.path.basename(p) for p in study.get_eval_config_files()] == ["mig.gin", "sap_score.gin"]
