"""dtl_reproduce's plan, seeds, flags, skipping and signals (no training needed; see
test_reproduce_pipeline.py for whole runs)."""
import os
import shutil
import subprocess
import sys

import pytest

from dlib_torch.cli import reproduce as cli
from dlib_torch.config import output_paths
from dlib_torch.config import reproduce as studies
from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError

DTL_REPRODUCE = os.path.join(os.path.dirname(sys.executable), "dtl_reproduce")

# disentanglement_lib's dlib_reproduce seeds: np.random.RandomState(0).randint(2**32), drawn for the
# postprocessing configs (mean, sampled), then for each representation's 9 metrics in sorted order.
POSTPROCESS_SEEDS = [2357136044, 2546248239]
EVALUATION_SEEDS = [3071714933, 3626093760, 2588848963, 3684848379, 2340255427, 3638918503, 1819583497,
                    2678185683, 2774094101, 1650906866, 1879422756, 1277901399, 3830135878, 243580376,
                    4138900056, 1171049868, 1646868794, 2051556033]


def seed_of(step):
    return int(step.bindings[0].split(" = ")[1])


def test_reference_seed_stream_and_layout():
    study = studies.get_study("unsupervised_study_v1")
    steps = cli.plan(study, 5523, "out")
    assert [s.kind for s in steps] == ["train", "visualize"] + ["postprocess"] * 2 + ["evaluation"] * 18
    postprocess = [s for s in steps if s.kind == "postprocess"]
    evaluation = [s for s in steps if s.kind == "evaluation"]
    assert [seed_of(s) for s in postprocess] == POSTPROCESS_SEEDS
    assert [seed_of(s) for s in evaluation] == EVALUATION_SEEDS
    assert postprocess[1].bindings[1] == "postprocess.name = 'sampled'"
    assert postprocess[1].output_dir == os.path.join("out", "postprocessed", "sampled")
    assert evaluation[10].name == "sampled/dci"
    assert evaluation[10].bindings[1] == "evaluation.name = 'dci'"
    assert evaluation[10].input_dir == os.path.join("out", "postprocessed", "sampled")
    assert evaluation[10].output_dir == os.path.join("out", "metrics", "sampled", "dci")


def test_training_bindings_start_with_model_name_and_number():
    study = studies.get_study("unsupervised_study_v1")
    train = cli.plan(study, 5523, "out")[0]
    assert train.output_dir == os.path.join("out", "model")
    assert train.bindings[:3] == ["model.name = 'shared'", "model.model_num = 5523",
                                  "dataset.name = 'scream_dsprites'"]
    assert train.bindings[-1] == "model.random_seed = 23"
    assert train.config_files == [study.get_model_config(5523)[1]]


def test_visualization_takes_the_studys_options():
    steps = cli.plan(studies.get_study("test"), 0, "out")
    assert steps[1].kind == "visualize" and steps[1].options == {"num_animations": 1, "num_frames": 5,
                                                                 "num_points_irs": 1000}
    assert cli.plan(studies.get_study("quickstart"), 0, "out")[1].options == {}


def test_existing_model_dir_skips_training():
    steps = cli.plan(studies.get_study("test"), 0, "out", model_dir="trained/model")
    assert steps[0].kind == "visualize" and steps[0].input_dir == "trained/model"
    assert {s.input_dir for s in steps if s.kind == "postprocess"} == {"trained/model"}


def test_model_num_from_flag_slurm_or_default(capsys):
    assert cli.resolve_model_num(7, {"SLURM_ARRAY_TASK_ID": "3"}) == 7
    assert cli.resolve_model_num(None, {}) == 0
    assert capsys.readouterr().out == ""
    assert cli.resolve_model_num(None, {"SLURM_ARRAY_TASK_ID": "3"}) == 3
    assert "using SLURM_ARRAY_TASK_ID=3" in capsys.readouterr().out
    with pytest.raises(UserError, match="pass --model_num"):
        cli.resolve_model_num(None, {"SLURM_ARRAY_TASK_ID": "x"})


def test_output_directory_placeholders():
    assert output_paths.output_directory_for(None, "test", 4, None) == os.path.join("output", "test", "4")
    assert output_paths.output_directory_for(None, "test", 4, "some/model") == "output"
    assert output_paths.output_directory_for("/scratch/{study}-{model_num}/x", "q", 12, None) == "/scratch/q-12/x"
    with pytest.raises(UserError, match="placeholders"):
        output_paths.output_directory_for("out/{seed}", "q", 1, None)


def finish(step):
    """Writes the record that marks a step finished, as the stages do."""
    results.save_dict(os.path.join(step.output_dir, "results", "aggregate", step.kind + ".json"), {"x": 1})


def test_finished_steps_are_skipped(tmp_path):
    steps = cli.plan(studies.get_study("test"), 0, str(tmp_path / "out"))
    for step in steps:
        finish(step)
    lines = []
    cli.run_steps(steps, overwrite=False, log=lines.append)
    assert len(lines) == len(steps) == 2 + 2 + 4
    assert all(line.endswith("; skipped") for line in lines)
    assert "train model is finished in {}".format(tmp_path / "out" / "model") in lines[0]


def run_cli(*args, env=None, cwd=None):
    return subprocess.run([DTL_REPRODUCE] + list(args), capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **(env or {})), cwd=cwd)


def test_only_print_in_a_slurm_array_task():
    run = run_cli("--study=unsupervised_study_v1", "--only_print", env={"SLURM_ARRAY_TASK_ID": "12599"})
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.startswith("dtl_reproduce: --model_num not given; using SLURM_ARRAY_TASK_ID=12599\n")
    assert "dataset.name = 'shapes3d'\n" in out and "annealed_vae.c_max = 100.0\n" in out
    assert "model.random_seed = 49\n" in out
    assert "metric_configs/unsupervised.gin" in out and "postprocess_configs/sampled.gin" in out


def test_only_print_a_user_study(tmp_path):
    study = tmp_path / "my_study"
    shutil.copytree(os.path.join(studies.studies_root(), "test"), study)
    run = run_cli("--study={}".format(study), "--model_num=2", "--only_print")
    assert run.returncode == 0, run.stderr
    assert "model.name = 'factor_vae'" in run.stdout and str(study) in run.stdout


@pytest.mark.parametrize("args, message", [
    (["--study=nope"], "dtl_reproduce: error: unknown study 'nope'"),
    (["--study=test", "--model_num=3"], "dtl_reproduce: error: model number 3 is not in study 'test', whose "
                                        "models are numbered 0 to 2"),
    (["--study=test", "--model_dir=missing"], "dtl_reproduce: error: --model_dir missing holds no finished "
                                              "training"),
    (["--study=test", "--output_directory=o/{x}"], "dtl_reproduce: error: --output_directory 'o/{x}' may only"),
])
def test_errors_are_one_line(tmp_path, args, message):
    run = run_cli(*args, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip().startswith(message) and len(run.stderr.strip().splitlines()) == 1
