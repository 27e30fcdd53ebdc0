"""SLURM job arrays that run `dtl_reproduce` for a range of model numbers (DESIGN §7).

One array task is one model number. The job script runs dtl_reproduce through `srun`, so that the
pre-timeout signal (`--signal=USR1@N`) reaches the Python process; dtl_reproduce then checkpoints and exits
75, and the script requeues its own task, which resumes where it stopped. Preemption requeues the task too
(`--requeue`), and logs are appended across restarts (`--open-mode=append`).

Every user-supplied value reaches the script quoted: `shlex.quote` where bash reads it, `sbatch_quote` on the
`#SBATCH` lines, which sbatch parses itself, and `%%` for a literal `%` in the log file pattern.
"""
import collections
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

from dlib_torch.utils import atomic
from dlib_torch.utils import templates
from dlib_torch.utils.errors import UserError

# Arguments sbatch and bash both read as they are; anything else is quoted.
_SAFE_ARGUMENT = re.compile(r"[\w@%+=:,./-]+")

# SLURM's default MaxArraySize: array indices must be smaller than this.
DEFAULT_MAX_ARRAY_SIZE = 1001

# One job array: model numbers offset + index for each index in `indices`.
JobArray = collections.namedtuple("JobArray", ["offset", "indices"])

JobOptions = collections.namedtuple("JobOptions", [
    "partition", "time", "mem", "cpus_per_task", "gpus", "max_parallel", "signal_seconds", "extra_options"])


def parse_model_nums(text, num_models):
    """Model numbers from "0-1799" or "0-9,20,30-39" (sorted, unique); each must be below `num_models`."""
    model_nums = set()
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise UserError("--model_nums {!r}: expected ranges like 0-1799 or 0-9,20,30-39".format(text))
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise UserError("--model_nums {!r}: range {} ends before it starts".format(text, part))
        model_nums.update(range(first, last + 1))
    if max(model_nums) >= num_models:
        raise UserError("--model_nums {!r}: the study's models are numbered 0 to {}".format(text, num_models - 1))
    return sorted(model_nums)


def split_into_arrays(model_nums, max_array_size=DEFAULT_MAX_ARRAY_SIZE):
    """Groups sorted model numbers into job arrays whose indices (model_num - offset) stay below the limit."""
    arrays = []
    for model_num in model_nums:
        if arrays and model_num - arrays[-1].offset < max_array_size:
            arrays[-1].indices.append(model_num - arrays[-1].offset)
        else:
            arrays.append(JobArray(model_num, [0]))
    return arrays


def array_spec(indices, max_parallel=None):
    """The `--array` value: runs of consecutive indices as ranges, with the `%N` throttle."""
    runs = []
    for index in indices:
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    spec = ",".join(str(a) if a == b else "{}-{}".format(a, b) for a, b in runs)
    return spec + ("%{}".format(max_parallel) if max_parallel else "")


def sbatch_quote(value, what):
    """`value` as one argument of an `#SBATCH` line, which sbatch reads back exactly.

    sbatch, not bash, parses these lines (src/sbatch/opt.c, _get_argument): quotes group characters and a
    backslash escapes the next character even inside quotes, so shlex.quote's output would lose backslashes.
    A line break cannot be quoted there (sbatch reads one line at a time): it is a UserError naming `what`.
    """
    value = str(value)
    if "\n" in value:
        raise UserError("{} {!r} holds a line break, which an #SBATCH line cannot carry; remove it".format(
            what, value))
    if _SAFE_ARGUMENT.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reproduce_command():
    """The command that runs dtl_reproduce with this installation (the script beside this Python)."""
    script = os.path.join(os.path.dirname(sys.executable), "dtl_reproduce")
    if os.path.isfile(script):
        return [script]
    return [sys.executable, "-m", "dlib_torch.cli.reproduce"]


def job_script(study, job_array, job_name, output_directory, log_directory, options, command=None,
               environment=None, import_from=None):
    """The text of one job-array script.

    Args:
      study: the study's name or folder, as dtl_reproduce --study takes it.
      job_array: JobArray of the model numbers.
      job_name: SLURM job name.
      output_directory: dtl_reproduce's --output_directory (with {study} and {model_num}).
      log_directory: folder of the task logs (<job name>_<array index>.out, appended across restarts).
      options: JobOptions.
      command: how to run dtl_reproduce (default: reproduce_command()).
      environment: variables to export in the script (e.g. DISENTANGLEMENT_LIB_DATA).
      import_from: import each model with dtl_import first (see `import_lines`), then re-evaluate it.
    """
    command = command or reproduce_command()
    first, last = job_array.offset, job_array.offset + job_array.indices[-1]
    log_pattern = os.path.join(log_directory.replace("%", "%%"), "%x_%a.out")  # %% is a literal % for sbatch
    sbatch = [
        "--job-name=" + sbatch_quote(job_name, "the job name"),
        "--array={}".format(array_spec(job_array.indices, options.max_parallel)),
        "--output=" + sbatch_quote(log_pattern, "the log directory"),
        "--open-mode=append",
        "--requeue",
        "--signal=USR1@{}".format(int(options.signal_seconds)),
    ]
    for flag, value in [("partition", options.partition), ("time", options.time), ("mem", options.mem),
                        ("cpus-per-task", options.cpus_per_task), ("gpus", options.gpus)]:
        if value is not None:
            sbatch.append("--{}=".format(flag) + sbatch_quote(value, "--" + flag.replace("-", "_")))
    sbatch += [sbatch_quote(option, "--sbatch_option") for option in options.extra_options or []]
    lines = ["#!/bin/bash",
             "# Written by dtl_submit: models {}-{} of study {} (model number = {} + array index).".format(
                 first, last, json.dumps(study), job_array.offset)]
    lines += ["#SBATCH {}".format(option) for option in sbatch]
    lines += [""]
    lines += ["export {}={}".format(name, shlex.quote(value)) for name, value in sorted((environment or {}).items())]
    lines += [
        "export PYTHONUNBUFFERED=1",
        "study=" + shlex.quote(study),
        "model_num=$(( {} + SLURM_ARRAY_TASK_ID ))".format(int(job_array.offset)),
        "task=\"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"",
        "echo \"dtl_submit: task $task runs model $model_num of $study on $(hostname) (restart "
        "${SLURM_RESTART_COUNT:-0}, $(date))\"",
    ]
    lines += import_lines(study, output_directory, import_from, command) if import_from else []
    lines += [
        "# srun passes the pre-timeout signal to dtl_reproduce, not to this shell; Slurm >= 22.05 wants the",
        "# CPU count repeated.",
        "srun --ntasks=1 --cpus-per-task=\"${SLURM_CPUS_PER_TASK:-1}\" " + " ".join(
            shlex.quote(part) for part in command + ["--study=" + study,
                                                     "--output_directory=" + output_directory]) +
        " --model_num=\"$model_num\"" + (" --model_dir=\"$model_dir\"" if import_from else ""),
        "status=$?",
        "if [ \"$status\" -eq 75 ]; then",
        "    # Stopped early (time limit near or preempted) after saving its state: run the task again.",
        "    echo \"dtl_submit: model $model_num stopped early (exit 75); requeueing task $task\"",
        "    scontrol requeue \"$task\"",
        "fi",
        "exit \"$status\"",
        "",
    ]
    return "\n".join(lines)


def check_import_from(import_from):
    """Refuses an --import_from that would give every task the same archive, or that is no valid template."""
    if import_from:
        templates.check_template(import_from, "--import_from")
    if import_from and import_from != "bucket" and not re.match(r"https?://", import_from) and \
            "{model_num}" not in import_from:
        raise UserError("--import_from={} names one ZIP for every task; use {{model_num}} in the path (e.g. "
                        "/data/dlib/{{model_num}}.zip), a mirror's URL or 'bucket'".format(import_from))


def import_lines(study, output_directory, import_from, reproduce_command_parts=None):
    """Script lines that import the task's model with dtl_import into <output>/model (then `$model_dir`).

    `import_from`: 'bucket' (the historic URL), a mirror's base URL, a URL with {model_num}, or the path of the
    ZIPs with {model_num} (e.g. /data/dlib/{model_num}.zip).
    """
    command = _import_command(reproduce_command_parts)
    if import_from == "bucket":
        source = ["--model_num=$model_num"]
    elif re.match(r"https?://", import_from):
        flag = "--url" if "{model_num}" in import_from else "--mirror"
        source = ["--model_num=$model_num", "{}={}".format(flag, shlex.quote(import_from))]
    else:
        source = ["--zip=" + _with_model_num(os.path.abspath(import_from.format(study=study, model_num="{model_num}")))]
    return [
        "output_directory={}".format(_with_model_num(output_directory.format(study=study, model_num="{model_num}"))),
        "model_dir=\"$output_directory/model\"",
        " ".join(shlex.quote(part) for part in command + ["--study=" + study]) + " " + " ".join(source) +
        " --output_directory=\"$output_directory\" || exit $?",
    ]


def _with_model_num(text):
    """`text` as a double-quoted shell word in which {model_num} becomes $model_num."""
    quoted = '"' + re.sub(r'(["\\$`])', r"\\\1", text) + '"'
    return quoted.replace("{model_num}", '"$model_num"')


def _import_command(reproduce_command_parts):
    """dtl_import beside the configured dtl_reproduce (same container or prefix), else this installation's."""
    if reproduce_command_parts and os.path.basename(reproduce_command_parts[-1]) == "dtl_reproduce":
        return reproduce_command_parts[:-1] + [reproduce_command_parts[-1][:-len("dtl_reproduce")] + "dtl_import"]
    script = os.path.join(os.path.dirname(sys.executable), "dtl_import")
    return [script] if os.path.isfile(script) else [sys.executable, "-m", "dlib_torch.cli.import_model"]


def max_array_size():
    """The cluster's MaxArraySize (from `scontrol show config`), or SLURM's default when unknown."""
    try:
        config = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return DEFAULT_MAX_ARRAY_SIZE
    match = re.search(r"^MaxArraySize\s*=\s*(\d+)", config.stdout, re.MULTILINE)
    return int(match.group(1)) if match else DEFAULT_MAX_ARRAY_SIZE


def write_script(path, text):
    """Writes a job script atomically, executable."""
    atomic.write_text(path, text)
    os.chmod(path, 0o755)


def submit(script_path):
    """Submits a job script with sbatch; returns the job id."""
    if shutil.which("sbatch") is None:
        raise UserError("sbatch is not on PATH: run dtl_submit on a SLURM login node, or pass --dry_run to only "
                        "write the job scripts")
    run = subprocess.run(["sbatch", "--parsable", script_path], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise UserError("sbatch {} failed: {}".format(script_path, " ".join(run.stderr.split())))
    return run.stdout.strip().split(";")[0]
