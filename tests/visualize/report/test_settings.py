"""Settings: models of one configuration (every training setting but the seeds and the runtime) share a setting;
two configurations with one name get labels that tell them apart."""
import pandas as pd

from dlib_torch.visualize.report import settings


def frame(rows):
    base = {"dataset": "dsprites_full", "split": "blank_side", "model_label": "Composer",
            "train_config.model.name": "'composer'", "train_config.model.training_steps": "2000"}
    return pd.DataFrame([dict(base, **row) for row in rows])


def test_seeds_model_numbers_and_runtime_are_not_settings():
    assert not settings.is_setting("model.random_seed")
    assert not settings.is_setting("model_selection.seed")
    assert not settings.is_setting("model.model_num")
    assert not settings.is_setting("supervised_seed")
    assert not settings.is_setting("training_runtime.device")
    assert not settings.is_setting("evaluation_runtime.num_threads")
    assert settings.is_setting("evaluation_runtime.mode")  # the fast mode changes the numbers
    assert settings.is_setting("model.training_steps")
    assert settings.is_setting("vae/AdamOptimizer.learning_rate")


def test_seeds_of_one_configuration_share_its_setting_and_label():
    f = frame([{"model_id": str(seed), "train_config.model.random_seed": str(seed),
                "train_config.training_runtime.device": "'cuda'" if seed else "'cpu'"} for seed in range(3)])
    ids, labels = settings.setting_columns(f)
    assert ids.nunique() == 1 and set(labels) == {"Composer"}


def test_a_50_step_and_a_2000_step_composer_are_two_configurations():
    f = frame([{"model_id": "a", "train_config.model.random_seed": "0", "train_config.model.training_steps": "50"},
               {"model_id": "b", "train_config.model.random_seed": "1", "train_config.model.training_steps": "50"},
               {"model_id": "c", "train_config.model.random_seed": "0"}])
    ids, labels = settings.setting_columns(f)
    assert ids[0] == ids[1] != ids[2]
    assert list(labels) == ["Composer (model.training_steps=50)"] * 2 + ["Composer (model.training_steps=2000)"]


def test_settings_that_follow_the_split_do_not_rename_a_model():
    # generalisation_study_v1 trains each split for 30 epochs: the steps differ between splits, not within one.
    f = frame([{"model_id": "a", "split": "blank_side", "train_config.held_out.split": "'blank_side'",
                "train_config.model.training_steps": "172800"},
               {"model_id": "b", "split": "shape2tx", "train_config.held_out.split": "'shape2tx'",
                "train_config.model.training_steps": "288000"}])
    ids, labels = settings.setting_columns(f)
    assert ids[0] != ids[1] and set(labels) == {"Composer"}


def test_many_differences_end_with_the_setting_id():
    rows = [{"model_id": str(i), "train_config.a.x": str(i), "train_config.b.x": str(i), "train_config.c.x": str(i),
             "train_config.d.x": str(i)} for i in range(2)]
    ids, labels = settings.setting_columns(frame(rows))
    assert labels[0] == "Composer (a.x=0, b.x=0, c.x=0, setting {})".format(ids[0])
    assert labels[0] != labels[1]


def test_records_without_a_model_id_column_are_grouped_per_record():
    f = frame([{"train_config.model.training_steps": "50"}, {}]).assign(model_label="Composer")
    ids, labels = settings.setting_columns(f, unit=None)
    assert ids[0] != ids[1] and labels[0].endswith("(model.training_steps=50)")
