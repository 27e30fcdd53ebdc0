"""dtl_submit --import_from: each array task imports its model with dtl_import, then re-evaluates it.

The written script is run with bash and a stand-in `srun` (runs its command), so the import really happens
from a local HTTP mirror; dtl_reproduce is replaced by a command that prints the arguments it would get.
"""
import os
import subprocess
import sys

DTL_SUBMIT = os.path.join(os.path.dirname(sys.executable), "dtl_submit")


def submit(*args, cwd):
    return subprocess.run([DTL_SUBMIT] + list(args), capture_output=True, text=True, timeout=120, cwd=cwd)


def test_an_array_of_imports_from_a_mirror(published_zip, http_server, tmp_path):
    for model_num in (4, 5):
        with open(published_zip(model_num), "rb") as f:
            http_server.files["unsupervised_study_v1/{}.zip".format(model_num)] = f.read()
    out = tmp_path / "my out"  # a space, to check the quoting
    run = submit("--study=unsupervised_study_v1", "--model_nums=4-5", "--dry_run", "--job_directory=jobs",
                 "--output_directory=" + str(out / "{study}" / "{model_num}"), "--import_from=" + http_server.base_url,
                 "--reproduce_command=" + sys.executable + " -c 'import sys; print(\"REPRODUCE\", sys.argv[1:])'",
                 cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    script = tmp_path / "jobs" / "dtl_unsupervised_study_v1_4-5.sbatch"
    text = script.read_text()
    assert "--mirror={}".format(http_server.base_url) in text
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "srun").write_text("#!/bin/bash\nwhile [[ \"$1\" == --* ]]; do shift; done\nexec \"$@\"\n")
    os.chmod(fake_bin / "srun", 0o755)
    env = dict(os.environ, PATH="{}:{}".format(fake_bin, os.environ["PATH"]), SLURM_ARRAY_TASK_ID="1",
               SLURM_ARRAY_JOB_ID="99", DISENTANGLEMENT_LIB_DATA=str(tmp_path / "data"))
    task = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=300, env=env)
    assert task.returncode == 0, task.stdout + task.stderr
    model_dir = out / "unsupervised_study_v1" / "5" / "model"
    assert os.path.exists(model_dir / "results" / "aggregate" / "import.json")
    assert os.path.exists(model_dir / "exported" / "gaussian_encoder.pt")
    assert os.path.exists(tmp_path / "data" / "pretrained" / "unsupervised_study_v1" / "5.zip")
    reproduce = [line for line in task.stdout.splitlines() if line.startswith("REPRODUCE")]
    assert reproduce == ["REPRODUCE {}".format([
        "--study=unsupervised_study_v1", "--output_directory={}".format(out / "{study}" / "{model_num}"),
        "--model_num=5", "--model_dir={}".format(model_dir)])]
    assert not os.path.exists(out / "unsupervised_study_v1" / "4")  # task 1 is model 5 only


def test_one_zip_for_every_task_is_refused(tmp_path):
    run = submit("--study=unsupervised_study_v1", "--model_nums=0-1", "--dry_run", "--import_from=/data/0.zip",
                 cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "dtl_submit: error: --import_from=/data/0.zip names one ZIP for every task; use {model_num} in the path "
        "(e.g. /data/dlib/{model_num}.zip), a mirror's URL or 'bucket'"]
    assert not os.path.exists(tmp_path / "slurm" / "unsupervised_study_v1" / "dtl_unsupervised_study_v1_0-1.sbatch")
