"""composition_study_v1, composition_quickstart and generalisation_study_v1_paper_architectures: model numbers
and settings."""
import pytest

from dlib_torch.config import reproduce
from dlib_torch.data.ground_truth import splits


def test_composition_grid_and_numbering():
    study = reproduce.get_study("composition_study_v1")
    assert study.num_models() == 180
    datasets = [("dsprites_full", "dsprites"), ("shapes3d", "shapes3d"), ("mpi3d_real", "mpi3d")]
    conditions = ["extrapolation", "recombination_to_range", "recombination_to_element"]
    mixers = ["linear", "interp", "fixint", "mlp"]
    for model_num, config in enumerate(study.get_configs()):
        dataset, rest = divmod(model_num, 60)
        condition, rest = divmod(rest, 20)
        mixer, seed = divmod(rest, 5)
        name, family = datasets[dataset]
        assert config["dataset.name"] == name
        assert config["held_out.split"] == splits.CONDITIONS[family][conditions[condition]]
        assert (config["composer.mixer"], config["model.random_seed"]) == (mixers[mixer], seed)
    assert study.get_model_config(52)[0] == [
        "dataset.name = 'dsprites_full'", "held_out.split = 'leave1out'", "composer.mixer = 'fixint'",
        "model.name = 'composer_fixint'", "model.random_seed = 2"]
    with open(study.get_model_config(0)[1]) as f:
        shared = f.read()
    for line in ("model.model = @composer()", "model.batch_size = 64", "model.training_steps = 4680",
                 "vae/AdamOptimizer.learning_rate = 0.0001", "encoder.encoder_fn = @burgess_v2_encoder"):
        assert line in shared
    assert 30 * (10000 // 64) == 4680  # the paper: 30 epochs of 10,000 triplets, batch 64
    metrics = [f.rsplit("/", 1)[-1] for f in study.get_eval_config_files()]
    assert metrics == ["composition_reconstruction.gin", "dci.gin", "held_out_reconstruction.gin"]


def test_composition_quickstart_is_a_composer_per_split():
    study = reproduce.get_study("composition_quickstart")
    assert [c["held_out.split"] for c in study.get_configs()] == ["blank_side", "shape2tx", "leave1out"]


def test_paper_architectures_study_keeps_generalisation_study_numbers():
    base = reproduce.get_study("generalisation_study_v1")
    paper = reproduce.get_study("generalisation_study_v1_paper_architectures")
    assert paper.num_models() == base.num_models() == 480
    for model_num in range(0, 480, 7):
        b, p = base.get_config(model_num), paper.get_config(model_num)
        for key in ("dataset.name", "held_out.split", "model.name", "model.model", "model.random_seed",
                    "model.training_steps"):
            assert p[key] == b[key], (model_num, key)
    gt = paper.get_config(37)
    assert (gt["decoder.decoder_fn"], gt["gt_decoder.inputs"], gt["model_selection.every_steps"],
            gt["model_selection.num_batches"]) == ("@higgins_decoder", "raw", 10, 100)
    vae = paper.get_config(80)  # beta-VAE, dsprites shape2tx: 9,600 steps per epoch
    assert (vae["encoder.encoder_fn"], vae["decoder.decoder_fn"]) == ("@burgess_encoder", "@burgess_decoder")
    assert (vae["model_selection.every_steps"], vae["model_selection.num_batches"]) == (9600, 1920)
    assert paper.get_model_config(0)[1].endswith("paper_architectures.gin")


@pytest.mark.parametrize("name", ["composition_study_v1", "composition_quickstart",
                                  "generalisation_study_v1_paper_architectures"])
def test_listed_among_the_shipped_studies(name):
    assert name in reproduce.study_names()
