"""Tests of dlib_torch/postprocessing/postprocess.py: exported representation, records, 'auto' data set, errors."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from dlib_torch.data.ground_truth import dsprites_procedural
from dlib_torch.postprocessing import postprocess
from dlib_torch.utils import exported_modules
from dlib_torch.utils.errors import UserError


def _write_gin(tmp_path, name, method):
    path = tmp_path / "{}.gin".format(name)
    path.write_text("postprocess.postprocess_fn = @{}\ndataset.name = \"auto\"\npostprocess.random_seed = 0\n"
                    .format(method))
    return str(path)


def _images(num=16, seed=0):
    data = dsprites_procedural.ProceduralDSprites()
    random_state = np.random.RandomState(seed)
    return data.sample_observations(num, random_state)


def _model_means(model_dir, images):
    encoder = exported_modules.load(exported_modules.exported_path(model_dir, exported_modules.GAUSSIAN_ENCODER))
    with torch.no_grad():
        mean, logvar = encoder(torch.from_numpy(images))
    return mean.numpy(), logvar.numpy()


def _load_json(path):
    with open(path) as f:
        return json.load(f)


def test_mean_representation_is_the_encoder_mean_and_loads_without_dlib_torch(tiny_model, tmp_path):
    model_dir = tiny_model()
    output_dir = tmp_path / "postprocessed" / "mean"
    postprocess.postprocess_with_gin(model_dir, str(output_dir), False, [_write_gin(tmp_path, "mean",
                                                                                   "mean_representation")])
    images = _images()
    np.save(tmp_path / "images.npy", images)
    path = exported_modules.exported_path(str(output_dir), exported_modules.REPRESENTATION)
    script = ("import sys, numpy, torch\n"
              "module = torch.jit.load(sys.argv[1])\n"
              "codes = module(torch.from_numpy(numpy.load(sys.argv[2])))\n"
              "numpy.save(sys.argv[3], codes.detach().numpy())\n"
              "assert not any(name.startswith('dlib_torch') for name in sys.modules)\n")
    subprocess.run([sys.executable, "-c", script, path, str(tmp_path / "images.npy"), str(tmp_path / "codes.npy")],
                   check=True, cwd=str(tmp_path))
    codes = np.load(tmp_path / "codes.npy")
    mean, _ = _model_means(model_dir, images)
    assert codes.shape == (16, 4)
    np.testing.assert_allclose(codes, mean, rtol=1e-5, atol=1e-6)


def test_records_carry_the_training_records_and_resolve_the_auto_data_set(tiny_model, tmp_path):
    model_dir = tiny_model()
    output_dir = str(tmp_path / "postprocessed" / "mean")
    postprocess.postprocess_with_gin(model_dir, output_dir, False, [_write_gin(tmp_path, "mean",
                                                                              "mean_representation")],
                                     ["postprocess.name = 'mean'", "postprocess.random_seed = 2357136044"])
    config = _load_json(os.path.join(output_dir, "results", "json", "postprocess_config.json"))
    assert config["dataset.name"] == "'dsprites_procedural'"
    assert config["postprocess.postprocess_fn"] == "@mean_representation"
    assert config["postprocess.random_seed"] == "2357136044"
    assert config["postprocess.name"] == "'mean'"
    record = _load_json(os.path.join(output_dir, "results", "aggregate", "postprocess.json"))
    assert record["postprocess_results.model_dir"] == os.path.abspath(model_dir)
    assert record["postprocess_results.elapsed_time"] > 0
    assert "postprocess_results.uuid" in record
    train_record = _load_json(os.path.join(model_dir, "results", "aggregate", "train.json"))
    for key, value in train_record.items():
        assert record[key] == value
    assert record["train_config.dataset.name"] == "'dsprites_procedural'"
    assert os.path.exists(os.path.join(output_dir, "results", "gin", "train.gin"))
    assert os.path.exists(os.path.join(output_dir, "results", "gin", "postprocess.gin"))


def test_sampled_representation_draws_fresh_noise_on_every_call(tiny_model, tmp_path):
    model_dir = tiny_model()
    output_dir = str(tmp_path / "sampled")
    postprocess.postprocess_with_gin(model_dir, output_dir, False, [_write_gin(tmp_path, "sampled",
                                                                              "sampled_representation")])
    module = exported_modules.load(exported_modules.exported_path(output_dir, exported_modules.REPRESENTATION))
    assert module.uses_noise
    images = np.repeat(_images(1), 4000, axis=0)
    with torch.no_grad():
        first = module(torch.from_numpy(images)).numpy()
        second = module(torch.from_numpy(images)).numpy()
    assert not np.allclose(first, second)
    assert len(np.unique(first, axis=0)) == len(first)  # fresh noise for every row, even for equal images
    mean, logvar = _model_means(model_dir, images[:1])
    np.testing.assert_allclose(first.mean(axis=0), mean[0], atol=5 * np.exp(logvar[0] / 2).max() / np.sqrt(4000))
    np.testing.assert_allclose(first.std(axis=0), np.exp(logvar[0] / 2), rtol=0.1)


def test_ground_truth_decoder_representation_is_its_scaled_input(tiny_model, tmp_path):
    model_dir = tiny_model("model.model = @gt_decoder()")
    output_dir = str(tmp_path / "mean")
    postprocess.postprocess_with_gin(model_dir, output_dir, False, [_write_gin(tmp_path, "mean",
                                                                              "mean_representation")])
    module = exported_modules.load(exported_modules.exported_path(output_dir, exported_modules.REPRESENTATION))
    codes = module.from_factors(torch.tensor([[0, 0, 0, 0, 0], [2, 5, 39, 31, 31], [1, 3, 13, 8, 16]]))
    np.testing.assert_allclose(codes.numpy(), [[0] * 5, [1] * 5, [0.5, 0.6, 1 / 3, 8 / 31, 16 / 31]], rtol=1e-6)
    with pytest.raises(Exception, match="no image encoder"):
        module(torch.zeros([1, 64, 64, 1]))


def test_a_finished_output_directory_needs_overwrite(tiny_model, tmp_path):
    model_dir = tiny_model()
    output_dir = str(tmp_path / "mean")
    config = [_write_gin(tmp_path, "mean", "mean_representation")]
    postprocess.postprocess_with_gin(model_dir, output_dir, False, config)
    first_uuid = _load_json(os.path.join(output_dir, "results", "json", "postprocess_results.json"))["uuid"]
    with pytest.raises(UserError, match="--overwrite"):
        postprocess.postprocess_with_gin(model_dir, output_dir, False, config)
    postprocess.postprocess_with_gin(model_dir, output_dir, True, config)
    assert _load_json(os.path.join(output_dir, "results", "json", "postprocess_results.json"))["uuid"] != first_uuid


def test_missing_and_unfinished_models_fail_clearly(tiny_model, tmp_path):
    config = [_write_gin(tmp_path, "mean", "mean_representation")]
    with pytest.raises(UserError, match="does not exist.*dtl_train"):
        postprocess.postprocess_with_gin(str(tmp_path / "nowhere"), str(tmp_path / "out"), False, config)
    unfinished = tmp_path / "unfinished"
    (unfinished / "exported").mkdir(parents=True)
    with pytest.raises(UserError, match="no finished 'train' step"):
        postprocess.postprocess_with_gin(str(unfinished), str(tmp_path / "out"), False, config)
    assert not (tmp_path / "out").exists()
