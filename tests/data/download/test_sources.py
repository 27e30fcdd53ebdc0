import pytest

from dlib_torch.data.download import sources
from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils.errors import UserError


def test_names_expand_all_and_reject_unknown_ones():
    assert sources.resolve_dataset_names("dsprites_full, shapes3d,dsprites_full") == ["dsprites_full", "shapes3d"]
    assert sources.resolve_dataset_names("all") == sorted(sources.DATASET_FILES)
    with pytest.raises(UserError, match="unknown dataset 'mnist'; valid names: all, abstract_dsprites, cars3d"):
        sources.resolve_dataset_names("dsprites_full,mnist")


def test_every_file_backed_registered_data_set_can_be_downloaded():
    file_backed = set(named_data.DATASETS) - {
        "dsprites_procedural", "dsprites_procedural_noshape", "color_dsprites_procedural",
        "noisy_dsprites_procedural", "abstract_dsprites_procedural", "dummy_data", "identity_observations"}
    assert file_backed == set(sources.DATASET_FILES)


def test_url_overrides_take_precedence_flag_environment_mirror_table():
    environ = {"DTL_DOWNLOAD_URL_MPI3D_TOY": "http://env/toy.npz", "DTL_DOWNLOAD_MIRROR": "http://env-mirror/"}
    files = sources.remote_files(["mpi3d_toy", "mpi3d_real", "shapes3d"], {"shapes3d": "http://flag/s.h5"},
                                 environ=environ)
    assert [f.url for f in files] == ["http://env/toy.npz", "http://env-mirror/mpi3d_real.npz", "http://flag/s.h5"]
    assert files[2].sha256 == sources.FILES_BY_KEY["shapes3d"].sha256  # a moved file is still checked
    files = sources.remote_files(["mpi3d_real"], mirror="http://mine", environ=environ)
    assert files[0].url == "http://mine/mpi3d_real.npz"
    assert sources.remote_files(["mpi3d_real"], environ={})[0].url == sources.FILES_BY_KEY["mpi3d_real"].url


def test_a_digest_override_replaces_the_published_size_and_digest():
    (shapes,) = sources.remote_files(["shapes3d"], sha256_overrides={"shapes3d": "ABC"}, environ={})
    assert shapes.sha256 == "abc" and shapes.size is None
    (shapes,) = sources.remote_files(["shapes3d"], sha256_overrides={"shapes3d": ""}, environ={})
    assert shapes.sha256 is None
    with pytest.raises(UserError, match="unknown file key 'shapes'"):
        sources.remote_files(["shapes3d"], sha256_overrides={"shapes": ""}, environ={})


def test_each_file_is_fetched_once():
    keys = [f.key for f in sources.remote_files(["dsprites_full", "scream_dsprites", "noisy_dsprites"], environ={})]
    assert keys == ["dsprites", "scream"]


def test_assignments_parse_key_equals_value():
    assert sources.parse_assignments(["a=http://x/y?z=1", "b="], "url") == {"a": "http://x/y?z=1", "b": ""}
    with pytest.raises(UserError, match="--url expects KEY=VALUE, got 'nokey'"):
        sources.parse_assignments(["nokey"], "url")
