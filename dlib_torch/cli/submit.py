"""dtl_submit: runs a range of a study's models on SLURM, one job-array task per model number.

Writes one job-array script per range of model numbers (SLURM caps array indices at MaxArraySize) and,
unless --dry_run, submits it with sbatch. Each task runs dtl_reproduce; tasks that are preempted or reach
their time limit save their state, requeue themselves and resume (see dlib_torch/utils/slurm.py).

Examples:
  dtl_submit --study=unsupervised_study_v1 --model_nums=0-1799 --time=24:00:00 --gpus=1 --max_parallel=100
  dtl_submit --study=quickstart --dry_run          # write the scripts to slurm/quickstart/, submit nothing
  dtl_submit --study=unsupervised_study_v1 --model_nums=0-99 --import_from=/data/dlib/{model_num}.zip
"""
import os
import re
import shlex

from absl import flags

from dlib_torch.cli import common

FLAGS = flags.FLAGS


def main(argv):
    del argv
    from dlib_torch.utils import templates
    from dlib_torch.config import reproduce as studies
    from dlib_torch.utils import atomic
    from dlib_torch.utils import output_dirs
    from dlib_torch.utils import slurm
    from dlib_torch.utils.errors import UserError

    study = studies.get_study(FLAGS.study)
    # A user's study folder must be found from the job's working directory too.
    study_arg = FLAGS.study if FLAGS.study in studies.study_names() else os.path.abspath(FLAGS.study)
    num_models = study.num_models()
    model_nums = slurm.parse_model_nums(FLAGS.model_nums or "0-{}".format(num_models - 1), num_models)
    slurm.check_import_from(FLAGS.import_from)
    if FLAGS.max_parallel is not None and FLAGS.max_parallel < 1:
        raise UserError("--max_parallel must be at least 1")
    templates.check_template(FLAGS.output_directory, "--output_directory")
    output_directory = os.path.abspath(FLAGS.output_directory)
    job_directory = os.path.abspath(templates.fill(FLAGS.job_directory, "--job_directory", ("study",),
                                                      study=study.name))
    log_directory = os.path.join(job_directory, "logs")
    options = slurm.JobOptions(FLAGS.partition, FLAGS.time, FLAGS.mem, FLAGS.cpus_per_task, FLAGS.gpus,
                               FLAGS.max_parallel, FLAGS.signal_seconds, FLAGS.sbatch_option)
    environment = {name: os.environ[name] for name in ["DISENTANGLEMENT_LIB_DATA"] if name in os.environ}
    command = shlex.split(FLAGS.reproduce_command) if FLAGS.reproduce_command else None
    max_array_size = FLAGS.max_array_size or slurm.max_array_size()
    # Every script is composed (and every value checked) before the first one is written.
    scripts = []
    for job_array in slurm.split_into_arrays(model_nums, max_array_size):
        first, last = job_array.offset, job_array.offset + job_array.indices[-1]
        job_name = "dtl_{}_{}-{}".format(re.sub(r"[^\w.+-]", "_", study.name, flags=re.ASCII), first, last)
        script_path = os.path.join(job_directory, job_name + ".sbatch")
        scripts.append((job_array, script_path, slurm.job_script(
            study_arg, job_array, job_name, output_directory, log_directory, options, command, environment,
            FLAGS.import_from)))
    with output_dirs.owned_files(job_directory, overwrite=None) as owned:
        for _, script_path, _ in scripts:
            owned.check(script_path, "the job script")  # a file of the user's there is never replaced
        atomic.makedirs(log_directory)
        for _, script_path, text in scripts:
            slurm.write_script(script_path, text)
    for job_array, script_path, text in scripts:
        first, last = job_array.offset, job_array.offset + job_array.indices[-1]
        count = "{} model{}".format(len(job_array.indices), "" if len(job_array.indices) == 1 else "s")
        if FLAGS.dry_run:
            print("dtl_submit: wrote {} ({}, {}-{}); submit with: sbatch {}".format(
                script_path, count, first, last, shlex.quote(script_path)))
        else:
            job_id = slurm.submit(script_path)
            print("dtl_submit: submitted job {} ({} of {}, {}-{}); script {}, logs {}".format(
                job_id, count, study.name, first, last, script_path, log_directory), flush=True)


def run():
    flags.DEFINE_string("study", "quickstart", "Name of a shipped study, or the path of a study folder.")
    flags.DEFINE_string("model_nums", None, "Model numbers to run, e.g. 0-1799 or 0-9,20,30-39 (default: all).")
    flags.DEFINE_string("output_directory", os.path.join("output", "{study}", "{model_num}"),
                        "dtl_reproduce's --output_directory ({study} and {model_num} are filled in per task).")
    flags.DEFINE_string("job_directory", os.path.join("slurm", "{study}"),
                        "Where to write the job scripts and, in logs/, the task logs.")
    flags.DEFINE_string("partition", None, "sbatch --partition.")
    flags.DEFINE_string("time", None, "sbatch --time, the time limit of each task (e.g. 24:00:00).")
    flags.DEFINE_string("mem", None, "sbatch --mem, the memory of each task (e.g. 16G).")
    flags.DEFINE_integer("cpus_per_task", None, "sbatch --cpus-per-task.", lower_bound=1)
    flags.DEFINE_string("gpus", None, "sbatch --gpus, e.g. 1 or a100:1.")
    flags.DEFINE_integer("max_parallel", None, "At most this many tasks of each array run at once (%N).")
    flags.DEFINE_integer("signal_seconds", 300, "Send SIGUSR1 this many seconds before the time limit, so the "
                         "task can checkpoint and requeue itself.", lower_bound=1)
    flags.DEFINE_integer("max_array_size", None, "Largest array index + 1 (default: the cluster's MaxArraySize).",
                         lower_bound=1)
    flags.DEFINE_multi_string("sbatch_option", [], "Extra sbatch option for every array, e.g. --account=abc "
                              "(repeatable).")
    flags.DEFINE_string("reproduce_command", None, "Command that runs dtl_reproduce in the jobs, e.g. "
                        "'apptainer exec dlib.sif dtl_reproduce' (default: this installation's dtl_reproduce).")
    flags.DEFINE_string("import_from", None, "Import each pretrained model with dtl_import, then re-evaluate it: "
                        "'bucket', a mirror's base URL, a URL or a ZIP path with {model_num}.")
    flags.DEFINE_boolean("dry_run", False, "Only write the job scripts.")
    common.run_main(main, "dtl_submit")


if __name__ == "__main__":
    run()
