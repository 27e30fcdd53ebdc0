"""The abstract reasoning stage (reason.py) in process: learning works, records, determinism."""
import json
import os

from dlib_torch.evaluation.abstract_reasoning import reason

SMALL_WREN = [
    "abstract_reasoning.model = @TwoStageModel()",
    "TwoStageModel.reasoning_model_class = @OptimizedWildRelNet",
    "OptimizedWildRelNet.edge_mlp = [64, 64]",
    "OptimizedWildRelNet.graph_mlp = [64]",
    "OptimizedWildRelNet.dropout_in_last_graph_layer = None",
    "abstract_reasoning.random_seed = 0",
    "abstract_reasoning.batch_size = 32",
    "dataset.name = 'abstract_dsprites_procedural'",
    "pgm.pgm_type = 'easy1'",
]


def _results(output_dir):
    with open(os.path.join(output_dir, "results", "json", "abstract_reasoning_results.json")) as f:
        return json.load(f)


def test_values_embedder_learns_easy1_well_above_chance(tmp_path):
    """Chance is 1/6; over 10 x 32 validation PGMs, 0.35 is more than 8 standard deviations above it."""
    bindings = SMALL_WREN + ["TwoStageModel.embedding_model_class = 'values'",
                             "TwoStageModel.optimizer_fn = @AdamOptimizer", "AdamOptimizer.learning_rate = 0.01",
                             "abstract_reasoning.num_iterations = 2",
                             "abstract_reasoning.training_steps_per_iteration = 150",
                             "abstract_reasoning.eval_steps_per_iteration = 10"]
    reason.reason_with_gin(None, str(tmp_path / "values"), False, [], bindings)
    results = _results(tmp_path / "values")
    accuracies = [results["step{}.val.accuracy".format(k)] for k in (0, 150)]
    print("validation accuracy per iteration:", accuracies, "test:", results["best.test.accuracy"])
    assert results["best.val.accuracy"] == max(accuracies)
    assert results["best.val.accuracy"] > 0.35 and results["best.test.accuracy"] > 0.35
    assert results["step150.val.global_step"] == 300  # keys name the step at the start of the iteration


def test_batches_are_the_same_from_worker_processes():
    """Batch k of a seed is the same whether made here or ahead of time by workers (as with a GPU)."""
    import gin
    import torch
    from dlib_torch.evaluation.abstract_reasoning import pgm_data
    gin.clear_config()
    try:
        gin.parse_config(["dataset.name = 'abstract_dsprites_procedural'", "pgm.pgm_type = 'easy_mixed'"])
        dataset = pgm_data.get_pgm_dataset()
    finally:
        gin.clear_config()
    here = list(reason.PGMBatches(dataset, 3, True, torch.device("cpu"), 0).batches(5, 2, 6))
    workers = list(reason.PGMBatches(dataset, 3, True, torch.device("cpu"), 2).batches(5, 2, 6))
    assert len(here) == len(workers) == 4
    for a, b in zip(here, workers):
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(here[0]["context"], here[1]["context"])
