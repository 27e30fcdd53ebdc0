"""Tests of FolderStudy: a study folder's sweep, gin files, errors and printed configuration."""
import os
import textwrap

import pytest

from dlib_torch.config import study as study_lib
from dlib_torch.utils.errors import UserError


def write_study(root, sweep_source, postprocess=("mean",), metrics=("mig",), model_configs=("shared",)):
    """Writes a study folder with the given sweep.py and empty-but-named gin files."""
    for sub, names in [("model_configs", model_configs), ("postprocess_configs", postprocess),
                       ("metric_configs", metrics)]:
        os.makedirs(os.path.join(root, sub), exist_ok=True)
        for name in names:
            with open(os.path.join(root, sub, name + ".gin"), "w") as f:
                f.write("# {}\n".format(name))
    with open(os.path.join(root, "sweep.py"), "w") as f:
        f.write(textwrap.dedent(sweep_source))
    return str(root)


SWEEP = """
    from dlib_torch.config import hyperparams as h

    def get_config():
        return h.product([h.sweep("vae.beta", [1., 4.]), h.sweep("model.random_seed", [0, 1, 2])])
"""


def test_model_config_is_the_sweeps_bindings_and_the_shared_gin_file(tmp_path):
    folder = write_study(tmp_path / "my_study", SWEEP)
    study = study_lib.FolderStudy(folder)
    assert study.name == "my_study"
    assert study.num_models() == 6
    bindings, config_file = study.get_model_config(4)
    assert bindings == ["vae.beta = 4.0", "model.random_seed = 1"]
    assert config_file == os.path.join(folder, "model_configs", "shared.gin")


def test_gin_files_are_sorted_absolute_paths(tmp_path):
    folder = write_study(tmp_path / "s", SWEEP, postprocess=("sampled", "mean"), metrics=("sap", "dci", "mig"))
    study = study_lib.FolderStudy(folder)
    assert [os.path.basename(p) for p in study.get_postprocess_config_files()] == ["mean.gin", "sampled.gin"]
    assert [os.path.basename(p) for p in study.get_eval_config_files()] == ["dci.gin", "mig.gin", "sap.gin"]
    assert all(os.path.isabs(p) for p in study.get_eval_config_files())


def test_sweep_can_choose_the_model_config_file(tmp_path):
    source = SWEEP + """
    def get_model_config_file(config):
        return "model_configs/big.gin" if config["vae.beta"] > 1 else "model_configs/shared.gin"
    """
    folder = write_study(tmp_path / "s", source, model_configs=("shared", "big"))
    study = study_lib.FolderStudy(folder)
    assert os.path.basename(study.get_model_config(0)[1]) == "shared.gin"
    assert os.path.basename(study.get_model_config(3)[1]) == "big.gin"


@pytest.mark.parametrize("model_num", [-1, 6, 100])
def test_model_number_out_of_range_names_the_range(tmp_path, model_num):
    study = study_lib.FolderStudy(write_study(tmp_path / "s", SWEEP))
    with pytest.raises(UserError, match="numbered 0 to 5"):
        study.get_model_config(model_num)


def test_folder_without_sweep_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no sweep.py"):
        study_lib.FolderStudy(str(tmp_path)).num_models()


def test_broken_sweep_is_a_user_error_naming_the_file(tmp_path):
    folder = write_study(tmp_path / "s", "def get_config(:\n")
    with pytest.raises(UserError, match="sweep.py: SyntaxError"):
        study_lib.FolderStudy(folder).num_models()


def test_sweep_without_get_config_is_a_user_error(tmp_path):
    folder = write_study(tmp_path / "s", "CONFIGS = []\n")
    with pytest.raises(UserError, match="must define get_config"):
        study_lib.FolderStudy(folder).num_models()


def test_missing_model_config_file_is_a_user_error(tmp_path):
    folder = write_study(tmp_path / "s", SWEEP, model_configs=())
    with pytest.raises(UserError, match="shared.gin does not exist"):
        study_lib.FolderStudy(folder).get_model_config(0)


def test_empty_metric_folder_is_a_user_error(tmp_path):
    folder = write_study(tmp_path / "s", SWEEP, metrics=())
    with pytest.raises(UserError, match="no gin files in .*metric_configs"):
        study_lib.FolderStudy(folder).get_eval_config_files()


def test_print_functions(tmp_path, capsys):
    study = study_lib.FolderStudy(write_study(tmp_path / "s", SWEEP))
    study.print_model_config(5)
    study.print_postprocess_config()
    study.print_eval_config()
    out = capsys.readouterr().out
    assert "Gin bindings for model training:\n--\nvae.beta = 4.0\nmodel.random_seed = 2\n" in out
    assert os.path.join("model_configs", "shared.gin") in out
    assert "mean.gin" in out and "mig.gin" in out


def test_two_study_folders_do_not_share_their_sweep_module(tmp_path):
    first = study_lib.FolderStudy(write_study(tmp_path / "a", SWEEP))
    second = study_lib.FolderStudy(write_study(
        tmp_path / "b", "def get_config():\n    return [{'x.y': 1}]\n"))
    assert first.num_models() == 6 and second.num_models() == 1


def test_visualize_options(tmp_path):
    study = study_lib.FolderStudy(write_study(tmp_path / "plain", SWEEP))
    assert study.get_visualize_options() == {}
    source = textwrap.dedent(SWEEP) + "VISUALIZE_OPTIONS = {'num_animations': 1, 'num_points_irs': 100}\n"
    study = study_lib.FolderStudy(write_study(tmp_path / "small", source))
    assert study.get_visualize_options() == {"num_animations": 1, "num_points_irs": 100}
    source = textwrap.dedent(SWEEP) + "VISUALIZE_OPTIONS = {'frames': 3}\n"
    study = study_lib.FolderStudy(write_study(tmp_path / "bad", source))
    with pytest.raises(UserError, match="unknown arguments frames; valid: num_animations"):
        study.get_visualize_options()


def test_trainer_is_unsupervised_unless_the_sweep_chooses_weak(tmp_path, capsys):
    study = study_lib.FolderStudy(write_study(tmp_path / "plain", SWEEP))
    assert study.get_trainer(3) == "unsupervised"
    source = textwrap.dedent(SWEEP) + "def get_trainer(config):\n    return 'weak' if config['vae.beta'] > 1 else " \
                                      "'unsupervised'\n"
    study = study_lib.FolderStudy(write_study(tmp_path / "weak", source))
    assert [study.get_trainer(n) for n in (0, 3)] == ["unsupervised", "weak"]
    study.print_model_config(3)
    assert "Trainer: weak" in capsys.readouterr().out
    study.print_model_config(0)
    assert "Trainer" not in capsys.readouterr().out
    source = textwrap.dedent(SWEEP) + "def get_trainer(config):\n    return 'semi'\n"
    study = study_lib.FolderStudy(write_study(tmp_path / "bad", source))
    with pytest.raises(UserError, match=r"get_trainer returned 'semi' for model 1; it must be one of unsupervised, "
                                        r"weak"):
        study.get_trainer(1)
