"""dtl_submit with hostile values: every one reaches the job script quoted, the script is valid bash, and bash
(through a recording stand-in for srun) and sbatch (its own #SBATCH parser) read back the exact values."""
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading

import pytest

from dlib_torch.config import reproduce

DTL_SUBMIT = os.path.join(os.path.dirname(sys.executable), "dtl_submit")
# Each would run a command if a shell evaluated it; the canary files must never appear.
HOSTILE = "sp ace 'single' \"double\" $(touch pwned1) `touch pwned2`; touch pwned3 & \\back #hash %percent"
HOSTILE_MULTILINE = HOSTILE + "\nnext line $(touch pwned4)"
CANARIES = ["pwned1", "pwned2", "pwned3", "pwned4"]

RECORDING_SRUN = """#!{python}
import json, os, sys
with open(os.environ["SRUN_RECORD"], "w") as f:
    json.dump({{"argv": sys.argv[1:], "data": os.environ.get("DISENTANGLEMENT_LIB_DATA")}}, f)
"""


def submit(*args, cwd, env=None):
    return subprocess.run([DTL_SUBMIT] + list(args), capture_output=True, text=True, timeout=120, cwd=cwd,
                          env=dict(os.environ, **(env or {})))


def sbatch_arguments(script, tmp_path):
    """The #SBATCH arguments as sbatch itself parses them (sbatch -vvv prints each one it finds in a script;
    a minimal configuration lets it get that far without a cluster), or None without sbatch."""
    if shutil.which("sbatch") is None:
        return None
    conf = tmp_path / "slurm.conf"
    conf.write_text("ClusterName=t\nSlurmctldHost=localhost\nNodeName=localhost CPUs=1\n"
                    "PartitionName=p Nodes=localhost Default=YES\n")
    process = subprocess.Popen(["sbatch", "-vvv", "--test-only", str(script)], stderr=subprocess.PIPE, text=True,
                               stdout=subprocess.DEVNULL, env=dict(os.environ, SLURM_CONF=str(conf)))
    found = []
    timer = threading.Timer(60, process.kill)  # it would go on trying to reach a controller
    timer.start()
    try:
        for line in process.stderr:
            if 'Found in script, argument "' in line:
                found.append(line.rstrip("\n").split('Found in script, argument "', 1)[1][:-1])
            if "end of defined options" in line or "fatal" in line:
                break
    finally:
        timer.cancel()
        process.kill()
        process.wait()
    return found or None  # an sbatch that does not print what it found cannot be observed


@pytest.fixture
def hostile_study(tmp_path):
    """A copy of the `test` study in a folder whose name holds every hostile character, a line break included."""
    folder = tmp_path / ("study " + HOSTILE_MULTILINE)
    shutil.copytree(os.path.join(reproduce.studies_root(), "test"), folder)
    return folder


def test_hostile_values_reach_bash_and_sbatch_exactly(tmp_path, hostile_study):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "srun").write_text(RECORDING_SRUN.format(python=sys.executable))
    (fake_bin / "srun").chmod(0o755)
    command = [str(fake_bin / "srun"), "--flag=" + HOSTILE_MULTILINE]  # runs as dtl_reproduce, records its argv
    output = os.path.join(str(tmp_path), "out " + HOSTILE_MULTILINE, "{model_num}")
    data = "/data " + HOSTILE_MULTILINE
    run = submit("--study=" + str(hostile_study), "--model_nums=0-2", "--dry_run", "--job_directory=jobs " + HOSTILE,
                 "--output_directory=" + output, "--partition=" + HOSTILE, "--time=" + HOSTILE, "--mem=" + HOSTILE,
                 "--gpus=" + HOSTILE, "--sbatch_option=--comment=" + HOSTILE,
                 "--reproduce_command=" + " ".join(shlex.quote(part) for part in command),
                 cwd=tmp_path, env={"DISENTANGLEMENT_LIB_DATA": data})
    assert run.returncode == 0, run.stderr
    (script,) = (tmp_path / ("jobs " + HOSTILE)).glob("*.sbatch")
    assert script.name == "dtl_study_sp_ace__single___double____touch_pwned1___touch_pwned2___touch_pwned3___" \
                          "_back__hash__percent_next_line___touch_pwned4__0-2.sbatch"
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0

    # bash: run the script as a task of the array would, srun replaced by the recorder.
    record = tmp_path / "record.json"
    task = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env=dict(os.environ, PATH=str(fake_bin) + os.pathsep + os.environ["PATH"],
                                   SRUN_RECORD=str(record), SLURM_ARRAY_JOB_ID="7", SLURM_ARRAY_TASK_ID="1"))
    assert task.returncode == 0, task.stderr
    recorded = json.loads(record.read_text())
    assert recorded["argv"] == ["--ntasks=1", "--cpus-per-task=1"] + command + [
        "--study=" + str(hostile_study), "--output_directory=" + output, "--model_num=1"]
    assert recorded["data"] == data
    assert "runs model 1 of {} on ".format(hostile_study) in task.stdout
    assert [name for name in CANARIES if (tmp_path / name).exists()] == []

    # sbatch: its own parser of the #SBATCH lines reads back the exact values.
    arguments = sbatch_arguments(script, tmp_path)
    if arguments is not None:
        log_pattern = os.path.join(str(tmp_path), "jobs " + HOSTILE.replace("%", "%%"), "logs", "%x_%a.out")
        assert arguments == [
            "--job-name=" + script.name[:-len(".sbatch")], "--array=0-2", "--output=" + log_pattern,
            "--open-mode=append", "--requeue", "--signal=USR1@300", "--partition=" + HOSTILE, "--time=" + HOSTILE,
            "--mem=" + HOSTILE, "--gpus=" + HOSTILE, "--comment=" + HOSTILE]
    assert [name for name in CANARIES if (tmp_path / name).exists()] == []


@pytest.mark.parametrize("flag", ["--partition", "--time", "--mem", "--gpus", "--sbatch_option", "--job_directory"])
def test_a_line_break_in_an_sbatch_value_is_one_line_and_writes_nothing(tmp_path, flag):
    run = submit("--study=test", "--dry_run", "--job_directory=jobs", flag + "=" + HOSTILE_MULTILINE, cwd=tmp_path)
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1
    what = "the log directory" if flag == "--job_directory" else flag
    assert run.stderr.startswith("dtl_submit: error: {} ".format(what))
    assert "holds a line break, which an #SBATCH line cannot carry" in run.stderr
    assert os.listdir(tmp_path) == []

