"""quickstart: a few small models on procedural dSprites, each with a held-out split."""
from dlib_torch.config import reproduce


def test_quickstart_models():
    study = reproduce.get_study("quickstart")
    assert study.num_models() == 6
    assert study.get_model_config(0)[0] == [
        "held_out.split = 'blank_side'", "model.name = 'beta_vae'", "vae.beta = 4.0", "model.model = @vae()",
        "model.random_seed = 0"]
    configs = study.get_configs()
    assert [c["model.name"] for c in configs] == ["beta_vae", "factor_vae"] * 3
    assert [c["held_out.split"] for c in configs] == ["blank_side"] * 2 + ["shape2tx"] * 2 + ["leave1out"] * 2
    with open(study.get_model_config(0)[1]) as f:
        lines = f.read().splitlines()
    assert 'dataset.name = "dsprites_procedural"' in lines
