"""dtl_reproduce: the whole pipeline for one model number of a study (disentanglement_lib's dlib_reproduce).

Trains model `--model_num` of `--study`, visualises it, extracts every representation of the study and
evaluates every metric on each, in <output_directory>/{model,visualizations,postprocessed,metrics}/; a study
with abstract-reasoning configs (abstract_reasoning_study_v1's stage 2) then runs dtl_reason with each on its
representation, in <output_directory>/abstract_reasoning/<config>/.
Postprocessing and evaluation get the reference's fixed seed stream (numpy RandomState(0)), so every model
of a study is evaluated with the same seeds.

Made for job arrays: without --model_num inside a SLURM array task, the task id is the model number; a
rerun skips finished steps and resumes unfinished training from its checkpoint; SIGTERM/SIGUSR1 stop the
run with exit status 75 (training checkpoints first), so a requeued task carries on.

Examples:
  dtl_reproduce --model_num=0                       # quickstart model 0 in output/quickstart/0
  dtl_reproduce --study=unsupervised_study_v1 --model_num=5523 --only_print
  dtl_reproduce --study=path/to/my_study --output_directory=/scratch/{study}/{model_num}
  dtl_reproduce --study=test --model_dir=output/test/0/model --output_directory=reevaluated
  dtl_reproduce --model_num=0 --only_metrics=mig,dci --overwrite   # redo two metrics with the study's seeds
  dtl_reproduce --model_num=0 --evaluation_mode=fast                # metrics in the fast evaluation mode
"""
import collections
import os
import sys
import time

from absl import flags
import numpy as np

from dlib_torch.cli import common
from dlib_torch.config import output_paths
from dlib_torch.config import reproduce as studies
from dlib_torch.utils import output_dirs
from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError

# One unit of work; its kind (train, visualize, postprocess, evaluation, abstract_reasoning) is also its records'
# step name.
# `options` are keyword arguments of the visualisation; a training's are {"trainer": the study's trainer}.
Step = collections.namedtuple("Step", ["kind", "name", "input_dir", "output_dir", "config_files", "bindings",
                                       "options"], defaults=[{}])


def resolve_model_num(model_num, environ):
    """--model_num, else SLURM_ARRAY_TASK_ID inside an array task (saying so), else 0 as the reference."""
    if model_num is not None:
        return model_num
    task_id = environ.get("SLURM_ARRAY_TASK_ID")
    if task_id is None:
        return 0
    try:
        model_num = int(task_id)
    except ValueError:
        raise UserError("SLURM_ARRAY_TASK_ID={!r} is not a model number; pass --model_num".format(task_id))
    print("dtl_reproduce: --model_num not given; using SLURM_ARRAY_TASK_ID={}".format(model_num))
    return model_num


def plan(study, model_num, output_directory, model_dir=None):
    """The run's steps in order, with the reference's bindings and seed stream.

    Training comes first unless `model_dir` holds an already trained model; the postprocessing seeds,
    then the evaluation seeds (per representation, per metric in sorted order) are drawn from
    np.random.RandomState(0), as in disentanglement_lib.
    """
    steps = []
    if model_dir is None:
        model_dir = os.path.join(output_directory, "model")
        model_bindings, model_config_file = study.get_model_config(model_num)
        bindings = ["model.name = '{}'".format(_stem(model_config_file)),
                    "model.model_num = {}".format(model_num)] + model_bindings
        steps.append(Step("train", "model", None, model_dir, [model_config_file], bindings,
                          {"trainer": study.get_trainer(model_num)}))
    steps.append(Step("visualize", "visualizations", model_dir, os.path.join(output_directory, "visualizations"),
                      [], [], study.get_visualize_options()))
    random_state = np.random.RandomState(0)
    postprocess_configs = sorted(study.get_postprocess_config_files())
    for config in postprocess_configs:
        name = _stem(config)
        bindings = ["postprocess.random_seed = {}".format(random_state.randint(2**32)),
                    "postprocess.name = '{}'".format(name)]
        steps.append(Step("postprocess", name, model_dir, os.path.join(output_directory, "postprocessed", name),
                          [config], bindings))
    eval_configs = sorted(study.get_eval_config_files())
    for config in postprocess_configs:
        post_name = _stem(config)
        post_dir = os.path.join(output_directory, "postprocessed", post_name)
        for eval_config in eval_configs:
            metric = _stem(eval_config)
            bindings = ["evaluation.random_seed = {}".format(random_state.randint(2**32)),
                        "evaluation.name = '{}'".format(metric)]
            steps.append(Step("evaluation", "{}/{}".format(post_name, metric), post_dir,
                              os.path.join(output_directory, "metrics", post_name, metric), [eval_config], bindings))
    reason_configs, representation = study.get_reason_configs()
    for config in reason_configs:  # their seeds are the gin files' own, as the reference's stage 2
        steps.append(Step("abstract_reasoning", _stem(config), os.path.join(output_directory, "postprocessed",
                                                                            representation),
                          os.path.join(output_directory, "abstract_reasoning", _stem(config)), [config], []))
    return steps


def select_metrics(steps, only_metrics):
    """The steps that `--only_metrics` keeps: the evaluations of the named metrics (`mig`, or `mean/mig` for
    one representation) and the postprocessing they read (run only if unfinished); training and visualisation
    are left out. The seeds are those of the whole plan, so a metric gets the same seed as in a full run."""
    evaluations = [step for step in steps if step.kind == "evaluation"]
    known = sorted({step.name.split("/", 1)[1] for step in evaluations})
    wanted = [name.strip() for name in only_metrics if name.strip()]
    if not wanted:
        raise UserError("--only_metrics={!r} names no metric; name some, e.g. --only_metrics={}".format(
            ",".join(only_metrics), ",".join(known[:2])))
    for name in wanted:
        if name not in known and name not in {step.name for step in evaluations}:
            raise UserError("--only_metrics names {!r}, which is not a metric of this study; its metrics: {} "
                            "(or <representation>/<metric>, e.g. mean/{})".format(name, ", ".join(known), known[0]))
    chosen = [step for step in evaluations if step.name in wanted or step.name.split("/", 1)[1] in wanted]
    inputs = {step.input_dir for step in chosen}
    return [step for step in steps if (step.kind == "postprocess" and step.output_dir in inputs) or step in chosen]


def with_num_threads(steps, num_threads):
    """The steps with `num_threads` CPU threads: bound as training_runtime.num_threads and
    evaluation_runtime.num_threads (recorded in the steps' configs; a resumed training keeps a chosen count), and
    given to the visualisation."""
    bindings = {"train": "training_runtime.num_threads = {}", "evaluation": "evaluation_runtime.num_threads = {}"}
    changed = []
    for step in steps:
        if step.kind in bindings:
            step = step._replace(bindings=list(step.bindings) + [bindings[step.kind].format(num_threads)])
        elif step.kind == "visualize":
            step = step._replace(options=dict(step.options, num_threads=num_threads))
        changed.append(step)
    return changed


def with_evaluation_mode(steps, mode):
    """The steps with every metric evaluated in `mode` (`evaluation_runtime.mode`, recorded in its results)."""
    binding = "evaluation_runtime.mode = '{}'".format(mode)
    return [step._replace(bindings=list(step.bindings) + [binding]) if step.kind == "evaluation" else step
            for step in steps]


def is_finished(step):
    """True if the step's output directory holds its finished records (its step name is its kind) and they are
    the step's own: every binding of the plan that the record holds has the planned value (the metric's name
    and seed, ...). A finished record of another configuration, or an evaluation of another
    `evaluation_runtime.mode`, is refused (UserError) rather than counted as done."""
    if not results.step_finished(step.output_dir, step.kind):
        return False
    _check_recorded_bindings(step)
    if step.kind == "evaluation":
        wanted = next((binding.split("=", 1)[1].strip().strip("'\"") for binding in step.bindings
                       if binding.replace(" ", "").startswith("evaluation_runtime.mode=")), "parity")
        recorded = recorded_evaluation_mode(step.output_dir)
        if recorded != wanted:
            raise UserError("{} holds {}-mode results and this run asks for {} mode; replace them with "
                            "--only_metrics={} --overwrite, or use another --output_directory".format(
                                step.output_dir, recorded, wanted, step.name))
    return True


def _check_recorded_bindings(step):
    path = os.path.join(step.output_dir, "results", "json", "{}_config.json".format(step.kind))
    recorded = results.load_record(path) if os.path.exists(path) else {}
    planned_values = dict((part.strip() for part in binding.partition("=")[::2]) for binding in step.bindings)
    # A key bound twice: the last binding wins, as in gin. Names first: they tell the user most. How a step ran
    # (`*_runtime.*`: threads, ...) does not change its results; the evaluation mode has its own check.
    for key, planned in sorted(planned_values.items(), key=lambda item: not item[0].endswith(".name")):
        if key in recorded and "_runtime." not in key and \
                not results.same_gin_value(recorded[key], planned):
            raise UserError("{} holds a finished '{}' record of another configuration ({} = {} where this run "
                            "plans {}); move it away, or pass --overwrite to replace it".format(
                                step.output_dir, step.kind, key, recorded[key], planned))


def recorded_evaluation_mode(output_dir):
    """The `evaluation_runtime.mode` of the finished evaluation in `output_dir` ('parity' if not recorded)."""
    path = os.path.join(output_dir, "results", "json", "evaluation_config.json")
    config = results.load_record(path) if os.path.exists(path) else {}
    return str(config.get("evaluation_runtime.mode", "parity")).strip("'\"")


def run_step(step, overwrite):
    """Runs one step through its stage's entry function."""
    if step.kind == "train":  # the study's trainer: dtl_train's, or dtl_train_weakly_supervised's for 'weak'
        if step.options.get("trainer") == "weak":
            from dlib_torch.methods.weak import train_weak_lib as train
        else:
            from dlib_torch.methods.unsupervised import train
        train.train_with_gin(step.output_dir, overwrite, step.config_files, step.bindings)
    elif step.kind == "visualize":
        from dlib_torch.visualize import visualize_model
        visualize_model.visualize(step.input_dir, step.output_dir, overwrite, **step.options)
    elif step.kind == "postprocess":
        from dlib_torch.postprocessing import postprocess
        postprocess.postprocess_with_gin(step.input_dir, step.output_dir, overwrite, step.config_files,
                                         step.bindings)
    elif step.kind == "abstract_reasoning":
        from dlib_torch.evaluation.abstract_reasoning import reason
        reason.reason_with_gin(step.input_dir, step.output_dir, overwrite, step.config_files, step.bindings)
    else:
        from dlib_torch.evaluation import evaluate
        evaluate.evaluate_with_gin(step.input_dir, step.output_dir, overwrite, step.config_files, step.bindings)


def run_steps(steps, overwrite, log=print, name="dtl_reproduce", runner=None):
    """Runs the steps in order with `runner(step, overwrite)` (default `run_step`); without `overwrite`,
    finished ones are skipped and unfinished training resumes."""
    runner = runner or run_step
    for step in steps:
        if not overwrite and is_finished(step):
            log("{}: {} {} is finished in {}; skipped".format(name, step.kind, step.name, step.output_dir))
            continue
        if step.kind == "train" and not overwrite and os.path.isdir(step.output_dir):
            log("{}: resuming unfinished training in {}".format(name, step.output_dir))
        else:
            log("{}: {} {} -> {}".format(name, step.kind, step.name, step.output_dir))
        start = time.time()
        runner(step, overwrite)
        log("{}: {} {} done in {:.1f} s".format(name, step.kind, step.name, time.time() - start))


def main(argv):
    del argv
    FLAGS = flags.FLAGS
    study = studies.get_study(FLAGS.study)
    model_num = resolve_model_num(FLAGS.model_num, os.environ)
    if FLAGS.model_dir is None:
        study.print_model_config(model_num)
    else:
        print("Model directory (skipped training):")
        print("--")
        print(FLAGS.model_dir)
    print()
    study.print_postprocess_config()
    print()
    study.print_eval_config()
    sys.stdout.flush()
    if FLAGS.only_print:
        return None
    output_directory = output_paths.output_directory_for(FLAGS.output_directory, study.name, model_num, FLAGS.model_dir)
    if FLAGS.model_dir is not None and not results.step_finished(FLAGS.model_dir, "train"):
        raise UserError("--model_dir {} holds no finished training (results/aggregate/train.json is missing); "
                        "train it first, e.g. with dtl_reproduce without --model_dir".format(FLAGS.model_dir))
    steps = plan(study, model_num, output_directory, FLAGS.model_dir)
    if FLAGS.evaluation_mode != "parity":
        steps = with_evaluation_mode(steps, FLAGS.evaluation_mode)
    if FLAGS.num_threads is not None:
        steps = with_num_threads(steps, FLAGS.num_threads)
    if FLAGS.only_metrics:
        model_dir = FLAGS.model_dir or os.path.join(output_directory, "model")
        output_dirs.require_finished(model_dir, "train", "--only_metrics evaluates a trained model: run "
                                     "dtl_reproduce without it first, or pass --model_dir")
        steps = select_metrics(steps, FLAGS.only_metrics)
    # One run per output directory: a duplicated or requeued array task waits (--wait_for_lock) or exits with 75.
    log = lambda line: print(line, flush=True)  # noqa: E731
    with output_dirs.locked(output_directory):
        if FLAGS.only_metrics:  # --overwrite redoes the chosen metrics, never the representations they read
            run_steps([step for step in steps if step.kind == "postprocess"], False, log=log)
            steps = [step for step in steps if step.kind != "postprocess"]
        run_steps(steps, FLAGS.overwrite, log=log)
    if FLAGS.only_metrics:
        return "metrics {} of model {} of study {} are in {}".format(",".join(FLAGS.only_metrics), model_num,
                                                                      study.name, os.path.join(output_directory,
                                                                                               "metrics"))
    return "model {} of study {} is complete in {}".format(model_num, study.name, output_directory)


def run():
    flags.DEFINE_string("study", "quickstart", "Name of a shipped study, or the path of a study folder.")
    flags.DEFINE_string("output_directory", None,
                        "Output directory; '{study}' and '{model_num}' are replaced by the study name and the "
                        "model number (default: output/{study}/{model_num}, or output with --model_dir).")
    flags.DEFINE_string("model_dir", None, "Directory of an already trained model: skips training.")
    flags.DEFINE_integer("model_num", None, "Model number in the study (default: $SLURM_ARRAY_TASK_ID inside a "
                         "SLURM array task, else 0).", lower_bound=0)
    flags.DEFINE_boolean("only_print", False, "Only print the configuration of the model.")
    flags.DEFINE_boolean("overwrite", False, "Redo finished steps (default: skip them).")
    flags.DEFINE_enum("evaluation_mode", "parity", ["parity", "fast"],
                      "evaluation_runtime.mode of every metric: 'parity' (the reference's code, step for step) or "
                      "'fast' (the same boosted trees grown by compiled loops and a frozen encoder; recorded in "
                      "each metric's results). A finished metric of the other mode is refused, not skipped: "
                      "replace it with --only_metrics=... --overwrite, or use another --output_directory.")
    flags.DEFINE_integer("num_threads", None, "CPU threads of every step (default: $OMP_NUM_THREADS, else what the "
                         "process may use); recorded as training_runtime.num_threads and evaluation_runtime.num_threads, "
                         "and kept by a resumed training.", lower_bound=1)
    flags.DEFINE_list("only_metrics", [], "Only these metrics of the study (comma-separated, e.g. mig,dci or "
                      "mean/mig), with the study's seeds; the model must be trained. Add --overwrite to redo "
                      "finished ones.")
    common.run_main(main, "dtl_reproduce")


def _stem(path):
    """File name without its .gin extension."""
    return os.path.basename(path).replace(".gin", "")


if __name__ == "__main__":
    run()
