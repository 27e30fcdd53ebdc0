"""Tests of the job-array helpers: model-number ranges, array splitting, the job script's options."""
import os

import pytest

from dlib_torch.utils import slurm
from dlib_torch.utils.errors import UserError

OPTIONS = slurm.JobOptions(partition=None, time=None, mem=None, cpus_per_task=None, gpus=None, max_parallel=None,
                           signal_seconds=300, extra_options=[])


def test_parse_model_nums():
    assert slurm.parse_model_nums("0-3", 10) == [0, 1, 2, 3]
    assert slurm.parse_model_nums("7, 0-2,2,9", 10) == [0, 1, 2, 7, 9]


@pytest.mark.parametrize("text, message", [("0-10", "numbered 0 to 9"), ("3-1", "ends before it starts"),
                                           ("a", "expected ranges"), ("1-", "expected ranges"),
                                           ("", "expected ranges")])
def test_parse_model_nums_errors(text, message):
    with pytest.raises(UserError, match=message):
        slurm.parse_model_nums(text, 10)


def test_split_into_arrays_respects_max_array_size():
    arrays = slurm.split_into_arrays(list(range(1800)), max_array_size=1001)
    assert [(a.offset, a.indices[0], a.indices[-1], len(a.indices)) for a in arrays] == [
        (0, 0, 1000, 1001), (1001, 0, 798, 799)]
    arrays = slurm.split_into_arrays([5, 6, 7, 20, 3000], max_array_size=1001)
    assert arrays == [slurm.JobArray(5, [0, 1, 2, 15]), slurm.JobArray(3000, [0])]


def test_array_spec():
    assert slurm.array_spec([0, 1, 2, 15, 17, 18]) == "0-2,15,17-18"
    assert slurm.array_spec([0, 1, 2], max_parallel=8) == "0-2%8"


def test_job_script_options_and_command():
    options = OPTIONS._replace(partition="gpu", time="24:00:00", mem="16G", cpus_per_task=4, gpus="a100:1",
                               max_parallel=50, signal_seconds=120, extra_options=["--account=lab"])
    text = slurm.job_script("unsupervised_study_v1", slurm.JobArray(1001, [0, 1, 2]), "dtl_x", "/o/{study}/{model_num}",
                            "/logs", options, command=["/venv/bin/dtl_reproduce"],
                            environment={"DISENTANGLEMENT_LIB_DATA": "/data sets"})
    lines = text.splitlines()
    assert lines[0] == "#!/bin/bash"
    for option in ["--job-name=dtl_x", "--array=0-2%50", "--output=/logs/%x_%a.out", "--open-mode=append",
                   "--requeue", "--signal=USR1@120", "--partition=gpu", "--time=24:00:00", "--mem=16G",
                   "--cpus-per-task=4", "--gpus=a100:1", "--account=lab"]:
        assert "#SBATCH " + option in lines
    assert "export DISENTANGLEMENT_LIB_DATA='/data sets'" in lines
    assert "model_num=$(( 1001 + SLURM_ARRAY_TASK_ID ))" in lines
    srun = [line for line in lines if line.startswith("srun ")]
    assert srun == ["srun --ntasks=1 --cpus-per-task=\"${SLURM_CPUS_PER_TASK:-1}\" /venv/bin/dtl_reproduce "
                    "--study=unsupervised_study_v1 '--output_directory=/o/{study}/{model_num}' "
                    "--model_num=\"$model_num\""]
    assert "    scontrol requeue \"$task\"" in lines


def test_job_script_without_optional_options():
    text = slurm.job_script("test", slurm.JobArray(0, [0, 1]), "j", "/o", "/l", OPTIONS, command=["dtl_reproduce"])
    assert "--partition" not in text and "--time" not in text and "--gpus" not in text
    assert "#SBATCH --array=0-1\n" in text


def test_max_array_size_defaults_without_a_cluster(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no scontrol
    assert slurm.max_array_size() == slurm.DEFAULT_MAX_ARRAY_SIZE


def test_write_script_is_executable(tmp_path):
    path = str(tmp_path / "a" / "job.sbatch")
    slurm.write_script(path, "#!/bin/bash\n")
    assert os.access(path, os.X_OK)
