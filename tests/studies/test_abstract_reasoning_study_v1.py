"""abstract_reasoning_study_v1, stage 1: 2 data sets x 36 models x 5 seeds in the reference's order."""
from dlib_torch.config import reproduce


def test_stage1_sweep():
    study = reproduce.get_study("abstract_reasoning_study_v1")
    assert study.num_models() == 360
    configs = study.get_configs()
    assert configs[0]["dataset.name"] == "shapes3d" and configs[180]["dataset.name"] == "abstract_dsprites"
    # n = 180 * dataset + 5 * (6 * method + h) + seed
    assert study.get_model_config(187)[0] == [
        "dataset.name = 'abstract_dsprites'", "encoder.encoder_fn = @conv_encoder",
        "decoder.decoder_fn = @deconv_decoder", "model.name = 'beta_vae'", "vae.beta = 2.0",
        "model.model = @vae()", "model.random_seed = 2"]
    assert configs[359]["model.name"] == "annealed_vae" and configs[359]["annealed_vae.c_max"] == 100.
    assert configs[359]["model.random_seed"] == 4
    assert len(study.get_eval_config_files()) == 9 and len(study.get_postprocess_config_files()) == 2
