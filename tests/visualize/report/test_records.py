"""Records: what each record is about, read from its own keys, and the main score of each metric."""
import pandas as pd
import pytest

from dlib_torch.utils.errors import UserError
from dlib_torch.visualize.report import records as records_lib
from dlib_torch.visualize.report import synthetic_records


def test_gin_values_are_parsed_as_gin_printed_them():
    assert records_lib.gin_value("'dsprites_full'") == "dsprites_full"
    assert records_lib.gin_value("4.0") == 4.0
    assert records_lib.gin_value("@vae()") == "@vae()"
    assert records_lib.gin_value("None") is None
    assert records_lib.gin_value(3) == 3  # pandas may already have made numbers of numeric strings


def test_model_columns_of_unsupervised_records():
    # Model 1800 * 0 + 50 * (6 * 1 + 2) + 3: FactorVAE (method 1), gamma = 30 (value 2), seed 3, dsprites_full.
    frame = pd.DataFrame(synthetic_records.study_records("unsupervised_study_v1", [403], metrics=["mig", "dci"],
                                                         representations=["mean", "sampled"]))
    records = records_lib.Records(frame)
    row = records.frame.iloc[0]
    assert (row["dataset"], row["method"], row["hyperparameter"], row["seed"], row["model_num"]) == \
        ("dsprites_full", "factor_vae", 30.0, 3, 403)
    assert row["model_label"] == "FactorVAE (γ=30)"
    assert records.num_models == 1
    assert sorted(records.frame["representation"].unique()) == ["mean", "sampled"]
    assert records.score_keys == {"mig": "discrete_mig", "dci": "disentanglement"}
    assert len(records.scores) == 4
    assert records.metrics() == ["mig", "dci"]  # the papers' order, not the alphabet's


def test_generalisation_conditions_and_labels():
    # 40 * condition + 5 * model + seed: extrapolation (3), VAE (beta 1, model 0) and the GT decoder (model 7).
    frame = pd.DataFrame(synthetic_records.study_records("generalisation_study_v1", [120, 155]))
    records = records_lib.Records(frame)
    labels = dict(zip(records.frame["model_num"], records.frame["model_label"]))
    assert labels == {120: "VAE", 155: "GT decoder"}
    assert set(records.frame["condition"]) == {"extrapolation"}
    assert set(records.frame["split"]) == {"blank_side"}
    assert records.score_keys["held_out_reconstruction"] == "test_nll"


def test_unknown_metric_falls_back_to_its_first_key_with_a_note_and_can_be_chosen():
    frame = pd.DataFrame([{"train_config.dataset.name": "'mine'", "evaluation_config.evaluation.name": "'my_metric'",
                           "evaluation_config.evaluation.evaluation_fn": "@my_metric", "path": "a/metrics/x",
                           "evaluation_results.b_score": 0.5, "evaluation_results.a_score": 0.1,
                           "evaluation_results.elapsed_time": 3.0}])
    records = records_lib.Records(frame)
    assert records.score_keys == {"my_metric": "a_score"}
    assert any("my_metric" in note and "report.main_scores" in note for note in records.notes)
    assert records_lib.Records(frame, {"my_metric": "b_score"}).scores["value"].tolist() == [0.5]
    assert records.frame["model_id"].tolist() == ["a"]  # no training uuid: the model directory


def test_foreign_or_empty_frames_are_refused_in_one_line():
    for frame in [pd.DataFrame(), pd.DataFrame({"name": ["x"], "value": [1]})]:
        with pytest.raises(UserError, match="no dlib_torch/disentanglement_lib records"):
            records_lib.Records(frame)


def test_every_shipped_metric_has_a_main_score():
    """Each evaluation function of the registry (and UDR's) is plotted with its papers' score, never the first key
    in the alphabet: explicitness for DCI-ES (not best_capacity), InfoM for InfoMEC (not infoc), the model score for
    UDR (not num_models), the held-out NLL for the composition measure (not held_out_commands_from_training)."""
    import numpy as np
    from dlib_torch.evaluation.metrics import dci_es
    from dlib_torch.evaluation.metrics import infomec
    from dlib_torch.evaluation.metrics import registry
    from dlib_torch.visualize.report import main_scores
    for function in list(registry.EVALUATION_FUNCTIONS) + list(registry.VALIDATION_FUNCTIONS) + ["udr_sklearn"]:
        assert function in main_scores.MAIN_SCORE_KEYS or function in main_scores.SIZED_FUNCTIONS, function
    rng = np.random.RandomState(0)
    codes, factors = rng.randn(200, 4), rng.randint(0, 3, size=(200, 2))
    real_keys = {
        "dci_es": dci_es.dci_es_from_codes(codes[:100], factors[:100], codes[100:], factors[100:], capacities=(1, 2),
                                           num_trees=3),
        "infomec": infomec.infomec_from_codes(codes, factors),
    }
    assert main_scores.main_score_key("dci_es", list(real_keys["dci_es"])) == "explicitness"
    assert main_scores.main_score_key("infomec", list(real_keys["infomec"])) == "infom"
    assert main_scores.main_score_key("unified_scores", ["mutual_information_matrix.dci_disentanglement",
                                                         "mutual_information_matrix.mig"]) == \
        "mutual_information_matrix.dci_disentanglement"
    assert main_scores.main_score_key("reduced_downstream_task", [
        "10:mean_test_accuracy_reduced_factor", "1000:mean_test_accuracy_reduced_factor",
        "1000:mean_test_accuracy_other_factors"]) == "1000:mean_test_accuracy_reduced_factor"
    assert main_scores.main_score_key("strong_downstream_task", ["10:mean_test_accuracy",
                                                                 "100:mean_test_accuracy"]) == "100:mean_test_accuracy"


def test_new_metrics_are_plotted_with_their_main_scores_and_without_a_note():
    frame = pd.DataFrame(synthetic_records.study_records("quickstart", [0, 1, 2], metrics=["dci_es", "infomec", "udr"])
                         + synthetic_records.study_records("composition_quickstart", [0, 1],
                                                           metrics=["composition_reconstruction"]))
    records = records_lib.Records(frame)
    assert records.score_keys == {"dci_es": "explicitness", "infomec": "infom", "udr": "udr",
                                  "composition_reconstruction": "test_nll"}
    assert not [note for note in records.notes if "no known main score" in note]
    # The values the figures (and the rank-correlation heatmap) use are those scores.
    for metric, key in records.score_keys.items():
        plotted = records.scores[records.scores["metric"] == metric].set_index("model_id")["value"].sort_index()
        rows = records.frame[records.frame["metric"] == metric].set_index("model_id")["evaluation_results." + key]
        assert plotted.tolist() == rows.sort_index().tolist()
