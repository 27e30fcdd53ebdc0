"""Tests of dlib_torch/evaluation/evaluate.py: records, artifact and model directories, shared codes, errors."""
import json
import os
import shutil

import gin
import numpy as np
import pytest

from dlib_torch.evaluation import code_cache
from dlib_torch.evaluation import evaluate
from dlib_torch.evaluation import metric_inputs
from dlib_torch.postprocessing import postprocess
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import UserError

MIG = ["evaluation.evaluation_fn = @mig", "dataset.name = 'auto'", "evaluation.random_seed = 0", "mig.num_train = 300",
       "discretizer.discretizer_fn = @histogram_discretizer", "discretizer.num_bins = 20"]


@gin.configurable("probe_metric", denylist=["ground_truth_data", "representation_function", "random_state",
                                            "artifact_dir", "model_dir"])
def probe_metric(ground_truth_data, representation_function, random_state, artifact_dir=None, model_dir=None,
                 num_codes=5):
    """A metric that reports what it was given, and writes an artifact."""
    first_draw = random_state.randint(1000)
    os.makedirs(artifact_dir, exist_ok=True)
    with open(os.path.join(artifact_dir, "codes.txt"), "w") as f:
        f.write(str(representation_function(ground_truth_data.sample_observations(num_codes, random_state))))
    return {"num_factors": ground_truth_data.num_factors, "model_dir_given": model_dir is not None,
            "first_draw": first_draw}


@pytest.fixture(autouse=True)
def _fresh_caches():
    code_cache.clear()
    yield
    code_cache.clear()


@pytest.fixture
def postprocessed(tiny_model, tmp_path):
    """<tmp>/out/postprocessed/mean of the tiny model (which lives elsewhere; its path is recorded)."""
    output_dir = str(tmp_path / "out" / "postprocessed" / "mean")
    postprocess.postprocess_with_gin(tiny_model(), output_dir, False, [],
                                     ["postprocess.postprocess_fn = @mean_representation", "dataset.name = 'auto'",
                                      "postprocess.random_seed = 0", "postprocess.name = 'mean'"])
    return output_dir


def _load(directory, name):
    with open(os.path.join(directory, "results", name)) as f:
        return json.load(f)


def test_records_hold_every_step_with_the_reference_prefixes(postprocessed, tmp_path):
    output_dir = str(tmp_path / "metrics" / "mean" / "mig")
    evaluate.evaluate_with_gin(postprocessed, output_dir, False, [], MIG + ["evaluation.name = 'mig'"])
    record = _load(output_dir, "aggregate/evaluation.json")
    assert 0 <= record["evaluation_results.discrete_mig"] <= 1
    assert record["evaluation_results.elapsed_time"] > 0 and "evaluation_results.uuid" in record
    assert record["evaluation_config.evaluation.evaluation_fn"] == "@mig"
    assert record["evaluation_config.evaluation.name"] == "'mig'"
    assert record["evaluation_config.mig.num_train"] == "300"
    assert record["evaluation_config.dataset.name"] == "'dsprites_procedural'"  # "auto" resolved
    assert record["postprocess_config.postprocess.postprocess_fn"] == "@mean_representation"
    assert record["train_config.model.model"] == "@vae()"
    assert "train_results.reconstruction_loss" in record and "postprocess_results.uuid" in record
    prefixes = {key.split(".")[0] for key in record}
    assert prefixes == {"train_config", "train_results", "postprocess_config", "postprocess_results",
                        "evaluation_config", "evaluation_results"}
    for step in ("train", "postprocess", "evaluation"):
        assert os.path.exists(os.path.join(output_dir, "results", "gin", step + ".gin"))
    with pytest.raises(UserError, match="--overwrite"):
        evaluate.evaluate_with_gin(postprocessed, output_dir, False, [], MIG)
    evaluate.evaluate_with_gin(postprocessed, output_dir, True, [], MIG)


def test_metrics_get_artifact_and_model_directories_and_their_seed(postprocessed, tiny_model, tmp_path):
    output_dir = str(tmp_path / "probe")
    evaluate.evaluate_with_gin(postprocessed, output_dir, False, [],
                               ["evaluation.evaluation_fn = @probe_metric", "evaluation.random_seed = 42",
                                "evaluation.name = 'probe'", "dataset.name = 'auto'"])
    scores = _load(output_dir, "json/evaluation_results.json")
    assert scores["num_factors"] == 5 and scores["model_dir_given"]
    assert scores["first_draw"] == np.random.RandomState(42).randint(1000)
    assert os.path.exists(os.path.join(postprocessed, "artifacts", "probe", "codes.txt"))
    assert metric_inputs.trained_model_dir(postprocessed) == tiny_model()


def test_the_model_directory_is_found_from_the_layout_when_the_recorded_path_is_gone(tiny_model, tmp_path):
    first_home = tmp_path / "first" / "model"
    shutil.copytree(tiny_model(), first_home)
    postprocessed = str(tmp_path / "out" / "postprocessed" / "mean")
    postprocess.postprocess_with_gin(str(first_home), postprocessed, False, [],
                                     ["postprocess.postprocess_fn = @mean_representation", "dataset.name = 'auto'",
                                      "postprocess.random_seed = 0"])
    assert metric_inputs.trained_model_dir(postprocessed) == os.path.abspath(str(first_home))
    shutil.rmtree(first_home)
    with pytest.raises(UserError, match="cannot find the trained model"):
        metric_inputs.trained_model_dir(postprocessed)
    shutil.copytree(tiny_model(), tmp_path / "out" / "model")
    assert metric_inputs.trained_model_dir(postprocessed) == str(tmp_path / "out" / "model")
    other_model = tmp_path / "other" / "out"
    shutil.copytree(tmp_path / "out", other_model)
    shutil.rmtree(other_model / "model" / "results")
    shutil.copytree(tiny_model("model.random_seed = 1"), other_model / "model", dirs_exist_ok=True)
    with pytest.raises(UserError, match="cannot find the trained model"):  # another model's records: not ours
        metric_inputs.trained_model_dir(str(other_model / "postprocessed" / "mean"))


def test_metrics_of_one_process_share_the_codes_and_match_direct_encoding(postprocessed, tmp_path):
    evaluate.evaluate_with_gin(postprocessed, str(tmp_path / "mig"), False, [], MIG)
    (first,) = code_cache.cache_statistics()
    evaluate.evaluate_with_gin(postprocessed, str(tmp_path / "mig_again"), False, [],
                               MIG + ["evaluation.random_seed = 0"])
    (second,) = code_cache.cache_statistics()
    assert second["rows_encoded"] == first["rows_encoded"] > 0
    assert second["rows_looked_up"] == 2 * first["rows_looked_up"]
    evaluate.evaluate_with_gin(postprocessed, str(tmp_path / "direct"), False, [],
                               MIG + ["evaluation_runtime.cache_codes = False"])
    assert code_cache.cache_statistics() == [second]
    cached = _load(str(tmp_path / "mig"), "json/evaluation_results.json")["discrete_mig"]
    direct = _load(str(tmp_path / "direct"), "json/evaluation_results.json")["discrete_mig"]
    assert cached == pytest.approx(direct, rel=1e-9)


def test_ground_truth_decoder_representation_scores_as_disentangled(tiny_model, tmp_path):
    output_dir = str(tmp_path / "postprocessed" / "mean")
    postprocess.postprocess_with_gin(tiny_model("model.model = @gt_decoder()"), output_dir, False, [],
                                     ["postprocess.postprocess_fn = @mean_representation", "dataset.name = 'auto'",
                                      "postprocess.random_seed = 0"])
    evaluate.evaluate_with_gin(output_dir, str(tmp_path / "mig"), False, [], MIG + ["mig.num_train = 2000"])
    # Each code is one factor; 20-bin histograms merge some of the 32 or 40 values, so MIG is a little below 1.
    assert _load(str(tmp_path / "mig"), "json/evaluation_results.json")["discrete_mig"] > 0.8


def test_missing_or_unfinished_input_directories_fail_clearly(tiny_model, tmp_path):
    with pytest.raises(UserError, match="input directory .*nowhere does not exist.*dtl_postprocess"):
        evaluate.evaluate_with_gin(str(tmp_path / "nowhere"), str(tmp_path / "out"), False, [], MIG)
    with pytest.raises(UserError, match="no finished 'postprocess' step.*dtl_postprocess"):
        evaluate.evaluate_with_gin(tiny_model(), str(tmp_path / "out"), False, [], MIG)  # a model, not postprocessed
    assert not (tmp_path / "out").exists()


def test_unknown_metrics_and_non_metrics_fail_clearly(postprocessed, tmp_path):
    metric_file = tmp_path / "nope.gin"
    metric_file.write_text("evaluation.evaluation_fn = @nope\nevaluation.random_seed = 0\n")
    with pytest.raises(ConfigError, match=r"unknown metric 'nope' in evaluation.evaluation_fn; registered metrics: "
                                          r".*beta_vae_sklearn.*dci.*mig"):
        evaluate.evaluate_with_gin(postprocessed, str(tmp_path / "out"), False, [str(metric_file)])
    with pytest.raises(ConfigError, match="unknown metric 'nope'"):
        evaluate.evaluate_with_gin(postprocessed, str(tmp_path / "out"), False, [],
                                   ["evaluation.evaluation_fn = @nope"])
    with pytest.raises(ConfigError, match="not a metric"):
        evaluate.evaluate_with_gin(postprocessed, str(tmp_path / "out"), False, [],
                                   ["evaluation.evaluation_fn = @mean_representation", "evaluation.random_seed = 0"])
    with pytest.raises(ConfigError, match="Required bindings.*evaluation_fn"):
        evaluate.evaluate_with_gin(postprocessed, str(tmp_path / "out"), False, [], ["evaluation.random_seed = 0"])
    assert not (tmp_path / "out" / "results").exists()


@gin.configurable("split_probe", denylist=["ground_truth_data", "representation_function", "random_state",
                                           "artifact_dir"])
def split_probe(ground_truth_data, representation_function, random_state, artifact_dir=None):
    """A metric that reports which factor combinations it may sample."""
    factors = ground_truth_data.sample_factors(200, random_state)
    return {"num_square_right": int(np.sum((factors[:, 0] == 0) & (factors[:, 3] >= 16)))}


def test_held_out_auto_restricts_the_metric_to_a_side_of_the_models_split(tiny_model, tmp_path):
    model_dir = tiny_model("held_out.split = 'shape2tx'")
    post_dir = str(tmp_path / "post")
    postprocess.postprocess_with_gin(model_dir, post_dir, False, [],
                                     ["postprocess.postprocess_fn = @mean_representation", "dataset.name = 'auto'",
                                      "postprocess.random_seed = 0"])
    probe = ["evaluation.evaluation_fn = @split_probe", "dataset.name = 'auto'", "evaluation.random_seed = 0"]
    runs = {"whole": [], "train": ["held_out.split = 'auto'"],
            "test": ["held_out.split = 'auto'", "held_out.side = 'test'"]}
    found = {}
    for name, bindings in runs.items():
        evaluate.evaluate_with_gin(post_dir, str(tmp_path / name), False, [], probe + bindings)
        found[name] = _load(str(tmp_path / name), "json/evaluation_results.json")
    assert 0 < found["whole"]["num_square_right"] < 200  # about 1/6 of the grid
    assert found["train"]["num_square_right"] == 0  # shape2tx holds out the squares on the right
    assert found["test"]["num_square_right"] == 200
    assert _load(str(tmp_path / "train"), "json/evaluation_config.json")["held_out.split"] == "'shape2tx'"


@gin.configurable("pair_probe", denylist=["ground_truth_data", "representation_function", "random_state",
                                          "artifact_dir"])
def pair_probe(ground_truth_data, representation_function, random_state, artifact_dir=None):
    """A metric that reports the correlation of posX and posY in the factors it samples."""
    factors = ground_truth_data.sample_factors(2000, random_state)
    return {"posx_posy_correlation": float(np.corrcoef(factors[:, 3], factors[:, 4])[0, 1])}


CORRELATED = ["factor_sampling.mode = 'correlated'", "factor_sampling.pairs = [('posX', 'posY')]",
              "factor_sampling.strengths = [0.2]"]
PAIR_PROBE = ["evaluation.evaluation_fn = @pair_probe", "dataset.name = 'auto'", "evaluation.random_seed = 0"]


def test_factors_are_independent_unless_the_training_sampling_is_asked_for(tiny_model, tmp_path):
    post_dir = str(tmp_path / "post")
    postprocess.postprocess_with_gin(tiny_model(*CORRELATED), post_dir, False, [],
                                     ["postprocess.postprocess_fn = @mean_representation", "dataset.name = 'auto'",
                                      "postprocess.random_seed = 0"])
    found, configs = {}, {}
    for mode in ("default", "independent", "training"):
        bindings = PAIR_PROBE + ([] if mode == "default" else ["evaluation.factor_sampling = '{}'".format(mode)])
        evaluate.evaluate_with_gin(post_dir, str(tmp_path / mode), False, [], bindings)
        found[mode] = _load(str(tmp_path / mode), "json/evaluation_results.json")["posx_posy_correlation"]
        configs[mode] = _load(str(tmp_path / mode), "json/evaluation_config.json")
    assert abs(found["default"]) < 0.1 and found["independent"] == found["default"]
    assert found["training"] > 0.7  # sigma 0.2 ties posY to posX
    assert configs["default"]["evaluation.factor_sampling"] == "'independent'"
    assert "factor_sampling.mode" not in configs["default"]
    assert configs["training"]["evaluation.factor_sampling"] == "'training'"
    assert configs["training"]["factor_sampling.mode"] == "'correlated'"
    assert configs["training"]["factor_sampling.pairs"] == "[('posX', 'posY')]"
    assert configs["training"]["factor_sampling.strengths"] == "[0.2]"


def test_training_sampling_of_an_independent_model_is_independent(postprocessed, tmp_path):
    evaluate.evaluate_with_gin(postprocessed, str(tmp_path / "m"), False, [],
                               PAIR_PROBE + ["evaluation.factor_sampling = 'training'"])
    assert abs(_load(str(tmp_path / "m"), "json/evaluation_results.json")["posx_posy_correlation"]) < 0.1
    assert _load(str(tmp_path / "m"), "json/evaluation_config.json")["factor_sampling.mode"] == "'independent'"


@pytest.mark.parametrize("bindings, message", [
    (["evaluation.factor_sampling = 'correlated'"], r"evaluation.factor_sampling = 'correlated' is not allowed; it "
                                                    r"must be one of 'independent', 'training'"),
    (CORRELATED[:1], r"factor_sampling.mode is bound in the evaluation config; .* remove the binding"),
    (["evaluation.factor_sampling = 'training'"] + CORRELATED[1:2], r"factor_sampling.pairs is bound"),
])
def test_factor_sampling_errors_before_work(postprocessed, tmp_path, bindings, message):
    output_dir = str(tmp_path / "metrics")
    with pytest.raises(ConfigError, match=message):
        evaluate.evaluate_with_gin(postprocessed, output_dir, False, [], PAIR_PROBE + bindings)
    assert not os.path.exists(output_dir)


def test_fast_mode_is_recorded_and_keeps_the_keys(postprocessed, tmp_path):
    dci = ["evaluation.evaluation_fn = @dci", "dataset.name = 'auto'", "evaluation.random_seed = 0",
           "dci.num_train = 200", "dci.num_test = 100"]
    fast_gin = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "evaluation", "fast.gin")
    records = {}
    for mode, files in (("parity", []), ("fast", [fast_gin])):  # the shipped fast.gin sets the mode
        output_dir = str(tmp_path / mode)
        evaluate.evaluate_with_gin(postprocessed, output_dir, False, files, dci)
        assert _load(output_dir, "json/evaluation_config.json")["evaluation_runtime.mode"] == "'{}'".format(mode)
        records[mode] = _load(output_dir, "aggregate/evaluation.json")
    assert records["fast"]["evaluation_config.evaluation_runtime.mode"] == "'fast'"
    parity_keys = {k for k in records["parity"] if k.startswith("evaluation_results.")}
    assert parity_keys == {k for k in records["fast"] if k.startswith("evaluation_results.")}
    for key in ("disentanglement", "completeness", "informativeness_test"):
        assert abs(records["fast"]["evaluation_results." + key] - records["parity"]["evaluation_results." + key]) < .1


def test_unknown_evaluation_mode_is_refused_before_work(postprocessed, tmp_path):
    output_dir = str(tmp_path / "metrics")
    with pytest.raises(ConfigError, match=r"evaluation_runtime.mode = 'quick' is not allowed.*'parity', 'fast'"):
        evaluate.evaluate_with_gin(postprocessed, output_dir, False, [], MIG + ["evaluation_runtime.mode = 'quick'"])
    assert not os.path.exists(output_dir)
