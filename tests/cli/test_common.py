"""What every installed dtl_* command shares (dlib_torch/cli/common.py), run as a user runs it: --help, the
closing line, progress lines in a log, the thread choice, and cheap refusals that import no torch."""
import json
import os
import re
import subprocess
import sys
import time

import pytest

BIN = os.path.dirname(sys.executable)
# Every stage, with one of its own flags.
STAGES = {"dtl_visualize_dataset": "--name", "dtl_train": "--model_dir", "dtl_visualize": "--num_frames",
          "dtl_postprocess": "--output_dir", "dtl_evaluate": "--gin_evaluation_config_glob", "dtl_download": "--verify",
          "dtl_reproduce": "--model_num", "dtl_aggregate": "--output_path", "dtl_submit": "--model_nums"}
TEST_GIN = os.path.join(os.path.dirname(__file__), "..", "methods", "unsupervised", "train_test.gin")
ENV = dict(os.environ, OMP_NUM_THREADS="1", DTL_NUM_JOBS="1")
TINY = ["dataset.name = 'dsprites_procedural'", "model.training_steps = 6", "model.eval_steps = 1",
        "model.batch_size = 4", "training_runtime.log_every_steps = 2"]

# The closing line's duration, however slow the machine: "(12.3 s)", "(1 min 45 s)" or "(2 h 03 min)".
DURATION = r"\((?:\d+\.\d s|\d+ min \d\d s|\d+ h \d\d min)\)"


def _run(command, *args, env=ENV, **kwargs):
    return subprocess.run([os.path.join(BIN, command)] + list(args), capture_output=True, text=True, timeout=300,
                          env=env, **kwargs)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_help_shows_the_stage_flags_and_examples_not_absl_flags(stage):
    run = _run(stage, "--help")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("USAGE: {} [flags]".format(stage))
    assert re.search(r"Examples?:", run.stdout), run.stdout
    assert "\n  {}: ".format(STAGES[stage]) in run.stdout, run.stdout
    assert "--wait_for_lock" in run.stdout
    assert "--logtostderr" not in run.stdout and "--verbosity" not in run.stdout  # absl's flags: --helpfull
    assert "Try --helpfull" in run.stdout


def test_help_documents_each_flag_with_its_default():
    run = _run("dtl_visualize", "--help")
    assert "  --num_frames: Frames per animation. (default: 20)" in run.stdout
    assert "  --overwrite: Replace --output_dir if it already exists. (default: off)" in run.stdout
    assert "dtl_visualize --model_dir=output/model --output_dir=output/visualizations" in run.stdout
    assert _run("dtl_reproduce", "-h").stdout == _run("dtl_reproduce", "--help").stdout
    assert "--only_metrics" in _run("dtl_reproduce", "--help").stdout


def test_help_after_double_dash_is_not_help(tmp_path):
    run = _run("dtl_aggregate", "--output_path={}".format(tmp_path / "r.json"),
               "--result_file_pattern={}".format(tmp_path / "none" / "*.json"), "--", "--help")
    assert not run.stdout.startswith("USAGE")


def _import_probe(tmp_path, command, args):
    """Runs `command` in a child that reports, at exit, whether torch was imported and its peak memory."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import atexit, importlib, json, sys\n"
        "report_path, target, name = sys.argv[1:4]\n"
        "sys.argv = [name] + sys.argv[4:]\n"
        "def peak_kb():\n"
        "    # VmHWM: this program's own peak (getrusage's maxrss can carry the forking parent's over exec)\n"
        "    with open('/proc/self/status') as f:\n"
        "        return int(next(line for line in f if line.startswith('VmHWM')).split()[1])\n"
        "def report():\n"
        "    with open(report_path, 'w') as f:\n"
        "        json.dump({'torch': 'torch' in sys.modules, 'max_rss_kb': peak_kb()}, f)\n"
        "atexit.register(report)\n"
        "module, function = target.split(':')\n"
        "getattr(importlib.import_module(module), function)()\n")
    report = tmp_path / "report.json"
    start = time.monotonic()
    run = subprocess.run([sys.executable, str(probe), str(report), _entry_point(command), command] + list(args),
                         capture_output=True, text=True, timeout=120, env=ENV)
    elapsed = time.monotonic() - start
    with open(report) as f:
        return run, json.load(f), elapsed


def _entry_point(command):
    from importlib import metadata
    for entry in metadata.entry_points(group="console_scripts"):
        if entry.name == command:
            return entry.value
    raise AssertionError("{} is not installed".format(command))


def test_refusing_a_finished_output_imports_no_torch_and_is_fast(tmp_path):
    model_dir = tmp_path / "model"
    first = _run("dtl_train", "--model_dir={}".format(model_dir), "--gin_config={}".format(TEST_GIN),
                 *["--gin_bindings={}".format(b) for b in TINY])
    assert first.returncode == 0, first.stderr
    out = tmp_path / "vis"
    (out / "results" / "aggregate").mkdir(parents=True)
    (out / "results" / "aggregate" / "visualize.json").write_text("{}")
    cases = [
        ("dtl_train", ["--model_dir={}".format(model_dir), "--gin_config={}".format(TEST_GIN)], 0,
         "nothing to do"),
        ("dtl_visualize", ["--model_dir={}".format(model_dir), "--output_dir={}".format(out)], 2,
         "already holds finished 'visualize' results"),
        ("dtl_postprocess", ["--model_dir={}".format(model_dir), "--output_dir={}".format(tmp_path),
                             "--gin_config={}".format(TEST_GIN)], 2, "contains the input"),
        ("dtl_evaluate", ["--input_dir={}".format(model_dir), "--output_dir={}".format(tmp_path / "m"),
                          "--gin_config={}".format(TEST_GIN)], 2, "is a trained model, not a representation"),
        ("dtl_train", ["--model_dir={}".format(tmp_path / "new"), "--gin_config={}".format(tmp_path / "no.gin")], 2,
         "does not exist"),
    ]
    for command, args, status, message in cases:
        run, report, elapsed = _import_probe(tmp_path, command, args)
        assert run.returncode == status, (command, run.stderr)
        assert message in run.stdout + run.stderr, (command, run.stdout, run.stderr)
        assert not report["torch"], command
        assert report["max_rss_kb"] < 200 * 1024, (command, report)
        assert elapsed < 20, (command, elapsed)  # the full imports take several seconds more on a busy machine


def test_evaluate_on_a_model_folder_suggests_a_sibling_folder(tmp_path, tiny_model):
    model_dir = tiny_model()
    run = _run("dtl_evaluate", "--input_dir={}".format(model_dir), "--output_dir={}".format(tmp_path / "m"),
               "--gin_config={}".format(TEST_GIN))
    assert run.returncode == 2
    sibling = os.path.join(os.path.dirname(model_dir), "postprocessed", "mean")
    assert "--output_dir={}".format(sibling) in run.stderr
    assert "--output_dir={} ".format(model_dir) not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_training_logs_its_thread_choice_first_progress_lines_and_a_closing_line(tmp_path):
    model_dir = tmp_path / "model"
    run = _run("dtl_train", "--model_dir={}".format(model_dir), "--gin_config={}".format(TEST_GIN),
               *["--gin_bindings={}".format(b) for b in TINY + ["training_runtime.num_threads = 1"]])
    assert run.returncode == 0, run.stderr
    log_lines = [line for line in run.stderr.splitlines() if line.startswith("I")]
    assert "using 1 CPU thread (training_runtime.num_threads" in log_lines[0]
    assert any("step 2/6" in line for line in log_lines)
    assert re.search((r"^dtl_train: model in {}, records in {}; 6 steps, [^(]+ of training in all " + DURATION +
                      "$").format(
        re.escape(str(model_dir)), re.escape(str(model_dir / "results"))), run.stdout, re.M), run.stdout


def test_automatic_threads_follow_the_cpu_affinity(tmp_path):
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs CPU affinity and two CPUs")
    env = {k: v for k, v in ENV.items() if k not in ("OMP_NUM_THREADS", "SLURM_CPUS_PER_TASK")}
    one_cpu = sorted(os.sched_getaffinity(0))[:1]
    run = subprocess.run([os.path.join(BIN, "dtl_train"), "--model_dir={}".format(tmp_path / "model"),
                          "--gin_config={}".format(TEST_GIN)] + ["--gin_bindings={}".format(b) for b in TINY],
                         capture_output=True, text=True, timeout=300, env=env,
                         preexec_fn=lambda: os.sched_setaffinity(0, one_cpu))
    assert run.returncode == 0, run.stderr
    assert "using 1 CPU thread (CPU affinity allows 1" in run.stderr
    with_slurm = subprocess.run([sys.executable, "-c", "from dlib_torch.utils import threads; "
                                 "print(threads.choose_num_threads(None, 'x'))"], capture_output=True, text=True,
                                env=dict(env, SLURM_CPUS_PER_TASK="1"), check=True)
    assert with_slurm.stdout.strip() in ("(1, 'SLURM_CPUS_PER_TASK allows 1')", "(1, 'CPU affinity allows 1')")


def test_stages_show_progress_in_a_log_and_close_with_where_and_how_long(tmp_path, tiny_model):
    model_dir = tiny_model()
    env = dict(ENV, DTL_PROGRESS="lines")
    vis = _run("dtl_visualize", "--model_dir={}".format(model_dir), "--output_dir={}".format(tmp_path / "vis"),
               "--num_animations=1", "--num_frames=2", "--num_points_irs=200", env=env)
    assert vis.returncode == 0, vis.stderr
    assert "rendering animations: 5/5 GIFs in" in vis.stderr
    assert re.search(r"^dtl_visualize: pictures in .*vis " + DURATION + "$", vis.stdout, re.M), vis.stdout
    mean_gin = tmp_path / "mean.gin"
    mean_gin.write_text("postprocess.postprocess_fn = @mean_representation\ndataset.name = 'auto'\n"
                        "postprocess.random_seed = 0\n")
    post = _run("dtl_postprocess", "--model_dir={}".format(model_dir), "--output_dir={}".format(tmp_path / "mean"),
                "--gin_config={}".format(mean_gin), env=env)
    assert post.returncode == 0, post.stderr
    assert re.search(r"^dtl_postprocess: representation in .*representation.pt, records in .*results " +
                     DURATION + "$", post.stdout, re.M), post.stdout
    metric_gin = tmp_path / "mig.gin"
    metric_gin.write_text("evaluation.evaluation_fn = @mig\ndataset.name = 'auto'\nevaluation.random_seed = 0\n"
                          "mig.num_train = 300\ndiscretizer.discretizer_fn = @histogram_discretizer\n"
                          "discretizer.num_bins = 20\nevaluation_runtime.cache_codes = False\n")
    evaluation = _run("dtl_evaluate", "--input_dir={}".format(tmp_path / "mean"),
                      "--output_dir={}".format(tmp_path / "mig"), "--gin_config={}".format(metric_gin), env=env)
    assert evaluation.returncode == 0, evaluation.stderr
    assert "sampling codes: started (300 points)" in evaluation.stderr
    assert "sampling codes: 300/300 points in" in evaluation.stderr
    assert "using 1 CPU thread (OMP_NUM_THREADS" in evaluation.stderr
    assert re.search(r"^dtl_evaluate: scores in .*evaluation.json " + DURATION + "$", evaluation.stdout, re.M)


def test_aggregate_closes_with_what_it_wrote_and_how_long(tmp_path):
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "evaluation.json").write_text('{"evaluation_results.score": 1.0}')
    run = _run("dtl_aggregate", "--output_path={}".format(tmp_path / "r.json"),
               "--result_file_pattern={}".format(tmp_path / "records" / "*.json"))
    assert run.returncode == 0, run.stderr
    assert re.fullmatch((r"dtl_aggregate: wrote 1 records to {} " + DURATION + "\n").format(
        re.escape(str(tmp_path / "r.json"))), run.stdout)
