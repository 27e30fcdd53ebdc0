import numpy as np
import pytest

from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import MissingDataError


def test_row_major_round_trip():
    sizes = [3, 6, 40, 32, 32]
    rows = np.array([0, 1, 31, 32, 737279 // 6 * 5, 3 * 6 * 40 * 32 * 32 - 1])
    factors = util.rows_to_factors(rows, sizes)
    np.testing.assert_array_equal(util.factors_to_rows(factors, sizes), rows)
    np.testing.assert_array_equal(factors[2], [0, 0, 0, 0, 31])
    np.testing.assert_array_equal(factors[3], [0, 0, 0, 1, 0])


def test_state_space_atom_index_maps_features_to_rows():
    sizes = [2, 3, 4]
    features = util.rows_to_factors(np.arange(24), sizes)
    permutation = np.random.RandomState(0).permutation(24)
    index = util.StateSpaceAtomIndex(sizes, features[permutation])
    np.testing.assert_array_equal(index.features_to_index(features[permutation]), np.arange(24))
    with pytest.raises(ValueError, match="cover the whole state space"):
        util.StateSpaceAtomIndex(sizes, features[:-1])
    with pytest.raises(ValueError):
        index.features_to_index(np.array([[2, 0, 0]]))


def test_split_discrete_state_space_keeps_latent_and_draws_nuisance():
    space = util.SplitDiscreteStateSpace([3, 5, 7], [0, 2])
    rs = np.random.RandomState(0)
    latent = space.sample_latent_factors(1000, rs)
    assert latent.shape == (1000, 2) and latent[:, 0].max() == 2 and latent[:, 1].max() == 6
    full = space.sample_all_factors(latent, rs)
    np.testing.assert_array_equal(full[:, [0, 2]], latent)
    assert set(np.unique(full[:, 1])) == set(range(5))


def test_data_root_is_read_when_called(monkeypatch, tmp_path):
    monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(tmp_path))
    assert util.data_root() == str(tmp_path)
    monkeypatch.delenv("DISENTANGLEMENT_LIB_DATA")
    assert util.data_root() == "."


def test_require_file_names_file_and_download_command(tmp_path):
    missing = str(tmp_path / "dsprites" / "x.npz")
    with pytest.raises(MissingDataError) as info:
        util.require_file(missing, "dsprites_full")
    message = str(info.value)
    assert missing in message and "dtl_download --dataset=dsprites_full" in message
