"""dtl_evaluate runs unified_scores, dci_es and infomec from gin files (registered like every metric); the unified
scores' pictures go to <input_dir>/artifacts/<evaluation.name>."""
import json
import os
import subprocess
import sys

from dlib_torch.postprocessing import postprocess

DTL_EVALUATE = os.path.join(os.path.dirname(sys.executable), "dtl_evaluate")
ENV = dict(os.environ, OMP_NUM_THREADS="1", DTL_NUM_JOBS="1")
CONFIGS = {
    "unified_scores": "evaluation.evaluation_fn = @unified_scores\ndataset.name = 'auto'\nevaluation.random_seed = 0\n"
                      "unified_scores.num_train = 100\nunified_scores.num_test = 50\n"
                      "unified_scores.matrix_fns = [@mutual_information_matrix, @accuracy_svm_matrix]\n"
                      "discretizer.discretizer_fn = @histogram_discretizer\ndiscretizer.num_bins = 20\n",
    "dci_es": "evaluation.evaluation_fn = @dci_es\ndataset.name = 'auto'\nevaluation.random_seed = 0\n"
              "dci_es.num_train = 100\ndci_es.num_test = 50\ndci_es.capacities = (1, 4)\ndci_es.num_trees = 5\n",
    "infomec": "evaluation.evaluation_fn = @infomec\ndataset.name = 'auto'\nevaluation.random_seed = 0\n"
               "infomec.num_train = 100\n",
}


def test_the_newer_metrics_run_in_the_evaluation_stage(tiny_model, tmp_path):
    input_dir = str(tmp_path / "out" / "postprocessed" / "mean")
    postprocess.postprocess_with_gin(tiny_model(), input_dir, False, [],
                                     ["postprocess.postprocess_fn = @mean_representation", "dataset.name = 'auto'",
                                      "postprocess.random_seed = 0"])
    config_dir = tmp_path / "configs"
    config_dir.mkdir()
    for name, text in CONFIGS.items():
        (config_dir / (name + ".gin")).write_text(text)
    output_dir = tmp_path / "out" / "metrics" / "mean"
    done = subprocess.run([DTL_EVALUATE, "--input_dir=" + input_dir, "--output_dir=" + str(output_dir),
                           "--gin_evaluation_config_glob={}".format(config_dir / "*.gin")],
                          capture_output=True, text=True, timeout=600, env=ENV)
    assert done.returncode == 0, done.stderr
    records = {}
    for name in CONFIGS:
        with open(output_dir / name / "results" / "aggregate" / "evaluation.json") as f:
            records[name] = json.load(f)
    assert 0. <= records["unified_scores"]["evaluation_results.mutual_information_matrix.mig"] <= 1.
    assert "evaluation_results.accuracy_svm_matrix.merge_0_1" in records["unified_scores"]
    assert sorted(os.listdir(os.path.join(input_dir, "artifacts", "unified_scores"))) == [
        "accuracy_svm_matrix.png", "accuracy_svm_matrix_dendrogram.png", "accuracy_svm_matrix_pr.png",
        "mutual_information_matrix.png", "mutual_information_matrix_dendrogram.png",
        "mutual_information_matrix_pr.png"]
    assert 0. <= records["dci_es"]["evaluation_results.explicitness"] <= 1.
    assert records["dci_es"]["evaluation_results.size"] == 5. / 4.  # procedural dSprites' 5 factors, 4 latents
    assert {"evaluation_results.infom", "evaluation_results.infoe", "evaluation_results.infoc"} <= \
        set(records["infomec"])
