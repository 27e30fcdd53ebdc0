"""The shipped model configs of dlib_torch/examples/models/ (QLAE, QLVAE, HFS) and the correlated data config parse
and train, with the step count and networks overridden to seconds."""
import json
import os

import pytest

import dlib_torch

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(dlib_torch.__file__)), "examples")
SHORT = ["model.training_steps = 2", "model.eval_steps = 1", "model.batch_size = 4",
         "encoder.encoder_fn = @test_encoder", "decoder.decoder_fn = @test_decoder"]


@pytest.mark.parametrize("name, model", [("qlae", "@qlae()"), ("qlvae", "@qlvae()"), ("hfs_vae", "@vae()"),
                                         ("hfs_beta_tc_vae", "@beta_tc_vae()")])
def test_model_config_trains_on_correlated_data(tmp_path, name, model):
    from dlib_torch.methods.unsupervised import train
    files = [os.path.join(EXAMPLES, "models", name + ".gin"), os.path.join(EXAMPLES, "data", "correlated_dsprites.gin")]
    train.train_with_gin(str(tmp_path / "model"), False, files, SHORT)
    with open(tmp_path / "model" / "results" / "json" / "train_config.json") as f:
        config = json.load(f)
    assert config["model.model"] == model
    assert config["factor_sampling.mode"] == "'correlated'"
