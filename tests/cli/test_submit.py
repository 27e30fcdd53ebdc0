"""dtl_submit without a cluster: the scripts --dry_run writes and the one-line errors."""
import os
import shutil
import subprocess
import sys

import pytest

from dlib_torch.config import reproduce

DTL_SUBMIT = os.path.join(os.path.dirname(sys.executable), "dtl_submit")


def submit(*args, cwd, env=None):
    return subprocess.run([DTL_SUBMIT] + list(args), capture_output=True, text=True, timeout=120, cwd=cwd,
                          env=dict(os.environ, **(env or {})))


def test_dry_run_writes_one_script_per_array(tmp_path):
    run = submit("--study=unsupervised_study_v1", "--model_nums=0-1799", "--max_parallel=100",
                 "--time=24:00:00", "--max_array_size=1001", "--dry_run", cwd=tmp_path,
                 env={"DISENTANGLEMENT_LIB_DATA": "/data"})
    assert run.returncode == 0, run.stderr
    job_directory = tmp_path / "slurm" / "unsupervised_study_v1"
    assert sorted(os.listdir(job_directory)) == [".dtl_manifest.jsonl", "dtl_unsupervised_study_v1_0-1000.sbatch",
                                                 "dtl_unsupervised_study_v1_1001-1799.sbatch", "logs"]
    assert run.stdout.count("dtl_submit: wrote ") == 2
    second = (job_directory / "dtl_unsupervised_study_v1_1001-1799.sbatch").read_text()
    assert "#SBATCH --array=0-798%100\n" in second
    assert "model_num=$(( 1001 + SLURM_ARRAY_TASK_ID ))\n" in second
    assert "#SBATCH --output={}/%x_%a.out\n".format(job_directory / "logs") in second
    assert "'--output_directory={}/output/{{study}}/{{model_num}}'".format(tmp_path) in second
    assert "export DISENTANGLEMENT_LIB_DATA=/data\n" in second
    assert "--study=unsupervised_study_v1 " in second


def test_default_is_every_model_and_a_user_study_by_absolute_path(tmp_path):
    shutil.copytree(os.path.join(reproduce.studies_root(), "test"), tmp_path / "mine")
    run = submit("--study=mine", "--dry_run", "--job_directory=jobs", "--output_directory=/scratch/{model_num}",
                 "--reproduce_command=apptainer exec 'my image.sif' dtl_reproduce", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    script = (tmp_path / "jobs" / "dtl_mine_0-2.sbatch").read_text()
    assert "#SBATCH --array=0-2\n" in script
    assert "--study={} ".format(tmp_path / "mine") in script
    assert "'--output_directory=/scratch/{model_num}'" in script
    assert "apptainer exec 'my image.sif' dtl_reproduce --study=" in script


@pytest.mark.parametrize("args, message", [
    (["--study=test", "--model_nums=0-3"], "dtl_submit: error: --model_nums '0-3': the study's models are numbered "
                                           "0 to 2"),
    (["--study=nope"], "dtl_submit: error: unknown study 'nope'"),
    (["--study=test", "--max_parallel=0"], "dtl_submit: error: --max_parallel must be at least 1"),
])
def test_errors_are_one_line(tmp_path, args, message):
    run = submit(*args, "--dry_run", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip().startswith(message) and len(run.stderr.strip().splitlines()) == 1


def test_without_sbatch_the_error_suggests_dry_run(tmp_path):
    run = submit("--study=test", cwd=tmp_path, env={"PATH": os.path.dirname(sys.executable)})
    assert run.returncode == 2
    assert "sbatch is not on PATH" in run.stderr and "--dry_run" in run.stderr
