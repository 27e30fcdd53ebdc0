"""Every shipped study's gin files parse, with the bindings dtl_reproduce adds, once dlib_torch is imported.

This checks the configurable and parameter names of the studies against the code (gin rejects unknown
ones), so a renamed parameter cannot silently break a study.
"""
import importlib
import os
import pkgutil

import gin
import pytest

import dlib_torch
from dlib_torch.config import reproduce
from dlib_torch.utils import gin_utils


@pytest.fixture(scope="module", autouse=True)
def all_configurables():
    """Imports every dlib_torch module, which registers every gin configurable."""
    for module in pkgutil.walk_packages(dlib_torch.__path__, "dlib_torch."):
        importlib.import_module(module.name)


def distinct_model_configs(study):
    """(model_num, bindings, file) of one model per distinct setting (seeds aside)."""
    seen = set()
    for model_num, config in enumerate(study.get_configs()):
        key = tuple(sorted((k, repr(v)) for k, v in config.items() if k != "model.random_seed"))
        if key not in seen:
            seen.add(key)
            bindings, config_file = study.get_model_config(model_num)
            yield model_num, bindings, config_file


def parse(files, bindings):
    gin.clear_config()
    try:
        gin_utils.parse_files_and_bindings(files, bindings)
    finally:
        gin.clear_config()


@pytest.mark.parametrize("name", reproduce.study_names())
def test_model_configs_parse(name):
    study = reproduce.get_study(name)
    for model_num, bindings, config_file in distinct_model_configs(study):
        reproduce_bindings = ["model.name = '{}'".format(os.path.basename(config_file)[:-len(".gin")]),
                              "model.model_num = {}".format(model_num)]
        parse([config_file], reproduce_bindings + bindings)


@pytest.mark.parametrize("name", reproduce.study_names())
def test_postprocess_and_metric_configs_parse(name):
    study = reproduce.get_study(name)
    for path in study.get_postprocess_config_files():
        parse([path], ["postprocess.random_seed = 2357136044",
                       "postprocess.name = '{}'".format(os.path.basename(path)[:-len(".gin")])])
    for path in study.get_eval_config_files():
        parse([path], ["evaluation.random_seed = 3071714933",
                       "evaluation.name = '{}'".format(os.path.basename(path)[:-len(".gin")])])
