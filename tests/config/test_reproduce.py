"""Tests of the study loader: shipped studies by name, user folders by path, the source-tree fallback."""
import importlib.util
import os
import shutil

import pytest

from dlib_torch.config import reproduce
from dlib_torch.utils.errors import UserError

SHIPPED = ["abstract_reasoning_study_v1", "composition_quickstart", "composition_study_v1", "correlation_quickstart",
           "correlation_study_v1", "fairness_study_v1", "generalisation_study_v1",
           "generalisation_study_v1_paper_architectures", "latent_quantization_hfs_study_v1", "paper_table_dsprites",
           "paper_table_dsprites_cpu", "quickstart", "test", "unsupervised_study_v1"]


def test_shipped_studies_are_listed():
    assert reproduce.study_names() == SHIPPED
    assert sorted(reproduce.STUDIES) == SHIPPED and len(reproduce.STUDIES) == len(SHIPPED)


def test_shipped_study_by_name():
    study = reproduce.get_study("unsupervised_study_v1")
    assert study.num_models() == 12600
    assert reproduce.STUDIES["test"].num_models() == 3
    with pytest.raises(KeyError):
        reproduce.STUDIES["nope"]


def test_user_study_by_path(tmp_path):
    folder = tmp_path / "mine"
    shutil.copytree(os.path.join(reproduce.studies_root(), "test"), folder)
    study = reproduce.get_study(str(folder))
    assert study.name == "mine" and study.num_models() == 3
    assert study.get_model_config(0)[1].startswith(str(folder))


def test_unknown_study_lists_the_shipped_ones():
    with pytest.raises(UserError, match="unknown study 'nope'.*quickstart.*unsupervised_study_v1"):
        reproduce.get_study("nope")


def test_studies_root_is_the_installed_package():
    spec = importlib.util.find_spec("dlib_torch.studies")
    assert reproduce.studies_root() == list(spec.submodule_search_locations)[0]
    assert os.path.isfile(os.path.join(reproduce.studies_root(), "quickstart", "sweep.py"))


def test_studies_root_falls_back_to_the_source_tree(tmp_path, monkeypatch):
    """Without an importable dlib_torch.studies, <repo>/configs/studies beside the dlib_torch sources."""
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "dlib_torch.studies" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(reproduce, "__file__", str(tmp_path / "repo" / "dlib_torch" / "config" / "reproduce.py"))
    os.makedirs(tmp_path / "repo" / "configs" / "studies" / "mine")
    (tmp_path / "repo" / "configs" / "studies" / "mine" / "sweep.py").write_text("def get_config(): return []\n")
    assert reproduce.studies_root() == str(tmp_path / "repo" / "configs" / "studies")
    assert reproduce.study_names() == ["mine"]
