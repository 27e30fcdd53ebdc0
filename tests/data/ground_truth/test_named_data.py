import gin
import pytest

from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils.errors import UserError


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(UserError) as info:
        named_data.get_named_ground_truth_data("dsprites_ful")
    assert "unknown dataset 'dsprites_ful'" in str(info.value)
    assert "dsprites_procedural" in str(info.value)


def test_dataset_name_is_configurable_in_gin():
    gin.clear_config()
    try:
        gin.parse_config(["dataset.name = 'dummy_data'"])
        assert named_data.get_named_ground_truth_data().observation_shape == [64, 64, 1]
    finally:
        gin.clear_config()


def test_every_registered_procedural_dataset_builds_without_files():
    for name in ["dsprites_procedural", "dsprites_procedural_noshape", "color_dsprites_procedural",
                 "noisy_dsprites_procedural", "dummy_data", "identity_observations"]:
        data = named_data.get_named_ground_truth_data(name)
        assert len(data.factor_names) == data.num_factors == len(data.factors_num_values)
