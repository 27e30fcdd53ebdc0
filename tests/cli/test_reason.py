"""dtl_reason (dlib_torch/cli/reason.py) as real subprocesses on the test study's model: records, no-op rerun,
resuming after SIGTERM, one-line errors; and dtl_reproduce running a study's stage 2."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from dlib_torch.config import reproduce as studies

BIN = os.path.dirname(sys.executable)
REPO = os.path.join(os.path.dirname(__file__), "..", "..")
TEST_STUDY = os.path.join(REPO, "configs", "studies", "test")
STAGE2 = os.path.join(REPO, "configs", "studies", "abstract_reasoning_study_v1", "stage2")
ENV = dict(os.environ, OMP_NUM_THREADS="1")
ABSTRACT = "dataset.name = 'abstract_dsprites_procedural'"
# The study's example gin with a small WReN and a short schedule.
TINY = ["OptimizedWildRelNet.edge_mlp = [16, 16]", "OptimizedWildRelNet.graph_mlp = [16]",
        "abstract_reasoning.batch_size = 4", "abstract_reasoning.eval_steps_per_iteration = 2",
        "pgm.pgm_type = 'easy1'", "reasoning_runtime.log_every_steps = 1"]
TWO_ITERATIONS = TINY + ["abstract_reasoning.num_iterations = 2", "abstract_reasoning.training_steps_per_iteration = 3"]
VOLATILE = ("elapsed_time", "uuid")


def _run(command, *args, timeout=600):
    return subprocess.run([os.path.join(BIN, command)] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def _reason_args(output_dir, bindings, input_dir=None, gin_config=os.path.join(STAGE2, "example.gin")):
    args = ["--output_dir={}".format(output_dir), "--gin_config={}".format(gin_config)]
    if input_dir is not None:
        args.append("--input_dir={}".format(input_dir))
    return args + ["--gin_bindings={}".format(b) for b in bindings]


def _load(path):
    with open(path) as f:
        return json.load(f)


def _aggregate(output_dir):
    return _load(os.path.join(output_dir, "results", "aggregate", "abstract_reasoning.json"))


@pytest.fixture(scope="module")
def representation(tmp_path_factory):
    """The test study's model trained on procedural abstract dSprites, and its mean representation."""
    root = tmp_path_factory.mktemp("reason")
    model_dir, mean_dir = str(root / "model"), str(root / "postprocessed" / "mean")
    train = _run("dtl_train", "--model_dir=" + model_dir,
                 "--gin_config=" + os.path.join(TEST_STUDY, "model_configs", "train_test.gin"),
                 "--gin_bindings=" + ABSTRACT)
    assert train.returncode == 0, train.stderr
    post = _run("dtl_postprocess", "--model_dir=" + model_dir, "--output_dir=" + mean_dir,
                "--gin_config=" + os.path.join(TEST_STUDY, "postprocess_configs", "mean.gin"))
    assert post.returncode == 0, post.stderr
    return {"model": model_dir, "mean": mean_dir}


def test_records_carry_the_history_and_a_rerun_is_a_no_op(representation, tmp_path):
    output_dir = str(tmp_path / "abstract_reasoning" / "example")
    run = _run("dtl_reason", *_reason_args(output_dir, TWO_ITERATIONS, representation["mean"]))
    assert run.returncode == 0, run.stderr
    record = _aggregate(output_dir)
    for step in ("step0", "step3", "best"):
        for split in ("val", "test"):
            accuracy = record["abstract_reasoning_results.{}.{}.accuracy".format(step, split)]
            assert 0 <= accuracy <= 1 and (accuracy * 8) % 1 == 0  # 2 batches of 4 PGMs
    assert record["abstract_reasoning_results.step3.test.global_step"] == 6
    validation = [record["abstract_reasoning_results.step{}.val.accuracy".format(k)] for k in (0, 3)]
    assert record["abstract_reasoning_results.best.val.accuracy"] == max(validation)
    assert record["abstract_reasoning_results.elapsed_time"] > 0 and record["abstract_reasoning_results.uuid"]
    assert record["abstract_reasoning_config.HubEmbedding.hub_path"].endswith("exported/representation.pt'")
    assert record["abstract_reasoning_config.dataset.name"] == "'abstract_dsprites_procedural'"
    assert "train_results.elbo" in record and "postprocess_results.uuid" in record  # the earlier records

    again = _run("dtl_reason", *_reason_args(output_dir, TWO_ITERATIONS, representation["mean"]))
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr
    assert _aggregate(output_dir) == record


def _results_without_times(output_dir):
    results = _load(os.path.join(output_dir, "results", "json", "abstract_reasoning_results.json"))
    return {k: v for k, v in results.items() if not k.endswith(VOLATILE)}


def test_a_run_stopped_by_sigterm_resumes_to_the_same_results(representation, tmp_path):
    bindings = TINY + ["abstract_reasoning.num_iterations = 3", "abstract_reasoning.training_steps_per_iteration = 15",
                       "OptimizedWildRelNet.dropout_in_last_graph_layer = 0.5"]
    whole = str(tmp_path / "whole")
    run = _run("dtl_reason", *_reason_args(whole, bindings, representation["mean"]))
    assert run.returncode == 0, run.stderr

    stopped = str(tmp_path / "stopped")
    process = subprocess.Popen([os.path.join(BIN, "dtl_reason")] + _reason_args(stopped, bindings,
                                                                                 representation["mean"]),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        scalars = os.path.join(stopped, "scalars.jsonl")
        deadline = time.monotonic() + 300
        # Stop it in its second iteration, after the first iteration's checkpoint.
        while process.poll() is None and time.monotonic() < deadline and not (
                os.path.exists(scalars) and open(scalars).read().count("\n") >= 20):
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 75, "the run finished before the signal, or failed: " + stderr
    assert "dtl_reason: preempted: received SIGTERM" in stderr
    assert not os.path.exists(os.path.join(stopped, "results", "aggregate", "abstract_reasoning.json"))
    assert os.path.exists(os.path.join(stopped, "checkpoints", "latest.pt"))

    resumed = _run("dtl_reason", *_reason_args(stopped, bindings, representation["mean"]))
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming" in resumed.stderr
    assert _results_without_times(stopped) == _results_without_times(whole)
    steps = [json.loads(line)["global_step"] for line in open(os.path.join(stopped, "scalars.jsonl"))]
    assert steps == list(range(1, 46))  # one report per step, none twice


@pytest.mark.parametrize("case, expected", [
    ("unknown_pgm_type", "pgm.pgm_type = 'easy4' is not allowed; it must be one of 'easy1'"),
    ("not_a_representation", "has no finished 'postprocess' step"),
    ("no_quantisation", "has no PGM factor quantisation; abstract reasoning runs on abstract_dsprites"),
    ("no_data_set", "without --input_dir, dataset.name must be bound"),
])
def test_bad_input_is_one_line_and_exit_status_2(representation, tmp_path, case, expected):
    output_dir = str(tmp_path / "out")
    values = os.path.join(STAGE2, "baselines", "values.gin")
    args = {
        "unknown_pgm_type": _reason_args(output_dir, TWO_ITERATIONS + ["pgm.pgm_type = 'easy4'"],
                                         representation["mean"]),
        "not_a_representation": _reason_args(output_dir, TWO_ITERATIONS, representation["model"]),
        "no_quantisation": _reason_args(output_dir, TWO_ITERATIONS + ["dataset.name = 'dsprites_procedural'"],
                                        gin_config=values),
        "no_data_set": _reason_args(output_dir, TWO_ITERATIONS, gin_config=values),
    }[case]
    run = _run("dtl_reason", *args)
    assert run.returncode == 2, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("dtl_reason: error:")]
    assert len(errors) == 1 and expected in errors[0], run.stderr
    assert "Traceback" not in run.stderr
    assert not os.path.exists(output_dir)


def test_reproduce_runs_stage_2_after_stage_1(tmp_path):
    """A copy of the test study on abstract dSprites with one stage-2 config, as abstract_reasoning_study_v1."""
    study = tmp_path / "reasoning_study"
    shutil.copytree(os.path.join(studies.studies_root(), "test"), study, ignore=shutil.ignore_patterns("__pycache__"))
    config = study / "model_configs" / "train_test.gin"
    config.write_text(config.read_text().replace('dataset.name = "dsprites_procedural"', ABSTRACT))
    (study / "stage2").mkdir()
    example = open(os.path.join(STAGE2, "pgm_types", "easy1.gin")).read()
    (study / "stage2" / "tiny_easy1.gin").write_text(example + "\n".join(TWO_ITERATIONS) + "\n")
    with open(study / "sweep.py", "a") as f:
        f.write("\nREASON_CONFIG_DIR = 'stage2'\n")
    output_directory = str(tmp_path / "out")
    run = _run("dtl_reproduce", "--study=" + str(study), "--model_num=0", "--output_directory=" + output_directory,
               timeout=900)
    assert run.returncode == 0, run.stderr
    reason_dir = os.path.join(output_directory, "abstract_reasoning", "tiny_easy1")
    record = _aggregate(reason_dir)
    assert record["postprocess_config.postprocess.name"] == "'mean'"
    assert record["abstract_reasoning_config.pgm.pgm_type"] == "'easy1'"
    assert "abstract_reasoning_results.best.test.accuracy" in record
    again = _run("dtl_reproduce", "--study=" + str(study), "--model_num=0", "--output_directory=" + output_directory)
    assert again.returncode == 0, again.stderr
    assert "abstract_reasoning tiny_easy1 is finished in {}; skipped".format(reason_dir) in again.stdout


def test_abstract_reasoning_study_plans_stage_2_per_pgm_type_on_the_mean_representation():
    from dlib_torch.cli import reproduce
    study = studies.get_study("abstract_reasoning_study_v1")
    steps = [s for s in reproduce.plan(study, 200, "out") if s.kind == "abstract_reasoning"]
    assert [s.name for s in steps] == ["easy1", "easy2", "easy3", "easy_mixed", "hard1", "hard2", "hard3",
                                       "hard_mixed"]
    for step in steps:
        assert step.input_dir == os.path.join("out", "postprocessed", "mean")
        assert step.output_dir == os.path.join("out", "abstract_reasoning", step.name)
        text = open(step.config_files[0]).read()
        assert "pgm.pgm_type = '{}'".format(step.name) in text and "@HubEmbedding" in text
    # Stage 1 is unchanged: the reasoning steps come last and draw no seeds.
    assert reproduce.plan(study, 200, "out")[-len(steps):] == steps
    assert not [s for s in reproduce.plan(studies.get_study("test"), 0, "out") if s.kind == "abstract_reasoning"]
