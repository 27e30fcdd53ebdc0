"""Every dtl_* command, as the reliability matrix (test_matrix.py) runs it: how to make it succeed quickly, where it
writes, how to make its output unfinished, and one damaged input of its kind.

A new command joins REGISTRY and then inherits every failure class of the matrix. `setup.py`'s STAGES and REGISTRY
must name the same commands (test_matrix.py checks it).
"""
import dataclasses
import json
import os
import shutil
import typing

from reliability_tools import MEAN_GIN, MIG_GIN, REPO, STUDY, TESTS, TRAIN_GIN, flip_byte

SMALL_VISUALIZATION = ["--num_animations=1", "--num_frames=2", "--num_points_irs=20"]
REASON_GIN = os.path.join(REPO, "configs", "studies", "abstract_reasoning_study_v1", "stage2", "example.gin")
REASON_BINDINGS = ["OptimizedWildRelNet.edge_mlp = [8]", "OptimizedWildRelNet.graph_mlp = [8]",
                   "abstract_reasoning.batch_size = 4", "abstract_reasoning.eval_steps_per_iteration = 1",
                   "pgm.pgm_type = 'easy1'", "abstract_reasoning.num_iterations = 1",
                   "abstract_reasoning.training_steps_per_iteration = 2"]
UDR_SMALL = ["--gin_bindings=udr_sklearn.num_data_points = 100", "--gin_bindings=udr_sklearn.batch_size = 50"]
PIPELINE = ["--pipeline_seed=0", "--gin_postprocess_config_glob={}/postprocess_configs/mean.gin".format(STUDY),
            "--gin_evaluation_config_glob={}/metric_configs/mig.gin".format(STUDY)] + SMALL_VISUALIZATION
WEAK_MODEL = ["--gin_model_config_dir={}/methods/weak".format(TESTS), "--gin_model_config_name=train_test.gin",
              "--gin_bindings=model.eval_steps = 2"]
SEMI_MODEL = ["--gin_model_config_dir={}/methods/semi_supervised".format(TESTS),
              "--gin_model_config_name=train_test.gin"]
SEMI = ["--eval_seed=0", "--gin_validation_config_glob={}/validation/validation_test_configs/mig.gin".format(TESTS),
        "--supervised_seed=3", "--num_labelled_samples=20", "--train_percentage=0.5",
        "--labeller_fn=@perfect_labeller"]


class Context:
    """What a case works with: `tmp` (its own folder), `inputs` (session-wide finished inputs: copy before
    changing), `server` (a local HTTP server, for dtl_download)."""

    def __init__(self, tmp, inputs, server=None):
        self.tmp, self.inputs, self.server = str(tmp), inputs, server

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def copy(self, name):
        """A private copy of the session input `name` (a directory), in this case's folder."""
        target = self.path("inputs", name)
        if not os.path.exists(target):
            shutil.copytree(self.inputs[name], target, symlinks=True)
        return target


@dataclasses.dataclass
class Command:
    """One command of the matrix.

    args(ctx, output): the arguments of a quick successful run writing `output`.
    output(ctx): the directory it writes (or, with `single_file`, the file), given a fresh folder.
    step: the records step of its output directory ('' for commands without one).
    finished_rerun: the exit status of a plain rerun on a finished output (0: nothing to do, 2: refused).
    overwrite: the flag that replaces a finished output (None: the command has none).
    unfinished(output): turns a finished output into the state a killed run leaves (None: not applicable).
    damaged(ctx, output): (args, words the one-line error must contain) of a run on a damaged input.
    lock_dir(output): the directory whose lock a run waits for (for the signal cases).
    owned_dir(output): the directory whose manifest lists the command's files.
    prepared(ctx): returns a finished output for the rerun classes (default: run `args` once).
    """
    name: str
    args: typing.Callable
    output: typing.Callable
    step: str = ""
    finished_rerun: int = 0
    overwrite: typing.Optional[str] = "--overwrite"
    unfinished: typing.Optional[typing.Callable] = None
    damaged: typing.Optional[typing.Callable] = None
    lock_dir: typing.Callable = lambda output: output
    owned_dir: typing.Callable = lambda output: output
    single_file: bool = False
    prepared: typing.Optional[typing.Callable] = None
    timeout: int = 600


def mark_unfinished(step, where=""):
    """The state a killed run of `step` leaves in `<output>/<where>`: its marker, no final record."""
    def apply(output):
        directory = os.path.join(output, where)
        os.remove(os.path.join(directory, "results", "aggregate", "{}.json".format(step)))
        with open(os.path.join(directory, ".dtl_unfinished"), "w") as f:
            f.write(json.dumps({"step": step}))
    return apply


def _damaged_export(name, relative, words="is damaged"):
    """A copy of session input `name` with a byte of `relative` flipped."""
    def make(ctx):
        copy = ctx.copy(name)
        flip_byte(os.path.join(copy, relative))
        return copy
    return make, words


def _with_damaged(input_name, relative, build_args):
    make, words = _damaged_export(input_name, relative)

    def damaged(ctx, output):
        return build_args(ctx, output, make(ctx)), [words, os.path.basename(relative)]
    return damaged


def _train_damaged(ctx, output):
    """An unfinished model whose checkpoint has a flipped bit: the resume must refuse it, naming it."""
    model = ctx.copy("unfinished_model")
    flip_byte(os.path.join(model, "checkpoints", "latest.pt"), offset=-2000)
    return ["--model_dir=" + model, "--gin_config=" + TRAIN_GIN], ["checkpoint", "latest.pt", "is damaged"]


def _reproduce_damaged(study_dir_input, metric_dir, args):
    """A finished pipeline missing one metric, whose representation has a flipped byte: the evaluation that
    reads it must refuse it, naming the file."""
    def damaged(ctx, output):
        copy = ctx.copy(study_dir_input)
        shutil.rmtree(os.path.join(copy, metric_dir))
        flip_byte(os.path.join(copy, "postprocessed", "mean", "exported", "representation.pt"))
        return args(ctx, copy), ["representation.pt", "is damaged"]
    return damaged


def _report_damaged(ctx, output):
    bad = ctx.path("not_json.json")
    with open(bad, "w") as f:
        f.write("{ not json")
    return ["--input=" + bad, "--output_dir=" + output], ["not_json.json"]


def _aggregate_damaged(ctx, output):
    """A hostile record nested too deeply for any JSON reader: skipped and named, the rest aggregated."""
    root = ctx.copy("mig_records")
    hostile = os.path.join(root, "hostile", "results", "aggregate", "evaluation.json")
    os.makedirs(os.path.dirname(hostile))
    with open(hostile, "w") as f:
        f.write("[" * 100000 + "]" * 100000)
    return ["--result_file_pattern=" + os.path.join(root, "**", "evaluation.json"), "--output_path=" + output], \
        ["skipped 1 unreadable"]


def _import_damaged(ctx, output):
    zip_path = ctx.path("truncated.zip")
    with open(ctx.inputs["published_zip"], "rb") as f:
        data = f.read()
    with open(zip_path, "wb") as f:
        f.write(data[:len(data) // 2])
    return ["--zip=" + zip_path, "--output_directory=" + output], ["truncated.zip"]


def _download_args(ctx, output):
    return ["--dataset=mpi3d_toy", "--data_dir=" + output, "--mirror=" + ctx.server.base_url]


def _download_damaged(ctx, output):
    ctx.server.files["mpi3d_toy.npz"] = b"<html>not the data set</html>" * 100
    return _download_args(ctx, output), ["mpi3d_toy"]


def _submit_args(ctx, output):
    return ["--study=test", "--dry_run", "--job_directory=" + output,
            "--output_directory=" + ctx.path("runs", "{study}", "{model_num}")]


def _reason_args(ctx, output, representation=None):
    return ["--input_dir=" + (representation or ctx.inputs["abstract_mean"]), "--output_dir=" + output,
            "--gin_config=" + REASON_GIN] + ["--gin_bindings=" + b for b in REASON_BINDINGS]


def _udr_args(ctx, output, first=None):
    return ["--model_dirs={},{}".format(first or ctx.inputs["model"], ctx.inputs["model_seed1"]),
            "--output_dir=" + output] + UDR_SMALL


def _prepared_copy(name):
    """A finished output made once per session (expensive pipelines), copied for each case."""
    return lambda ctx: ctx.copy(name)


def _reproduce_args(ctx, out):
    return ["--study=test", "--model_num=0", "--output_directory=" + out]


def _weak_args(ctx, out):
    return ["--output_directory=" + out] + WEAK_MODEL + PIPELINE


def _semi_args(ctx, out):
    return ["--output_directory=" + out] + SEMI_MODEL + PIPELINE + SEMI


REGISTRY = [
    Command("dtl_train", lambda ctx, out: ["--model_dir=" + out, "--gin_config=" + TRAIN_GIN,
                                           "--gin_bindings=model.training_steps = 4"],
            lambda ctx: ctx.path("model"), step="train", finished_rerun=0,
            unfinished=mark_unfinished("train"), damaged=_train_damaged),
    Command("dtl_train_weakly_supervised",
            lambda ctx, out: ["--model_dir=" + out, "--gin_config={}/methods/weak/train_test.gin".format(TESTS),
                              "--gin_bindings=model.eval_steps = 2"],
            lambda ctx: ctx.path("model"), step="train", finished_rerun=0, unfinished=mark_unfinished("train")),
    Command("dtl_train_semi_supervised",
            lambda ctx, out: ["--model_dir=" + out,
                              "--gin_config={}/methods/semi_supervised/train_test.gin".format(TESTS)],
            lambda ctx: ctx.path("model"), step="train", finished_rerun=0, unfinished=mark_unfinished("train")),
    Command("dtl_visualize", lambda ctx, out: ["--model_dir=" + ctx.inputs["model"], "--output_dir=" + out]
            + SMALL_VISUALIZATION, lambda ctx: ctx.path("visualizations"), step="visualize", finished_rerun=2,
            unfinished=mark_unfinished("visualize"),
            damaged=_with_damaged("model", "exported/decoder.pt", lambda ctx, out, model: [
                "--model_dir=" + model, "--output_dir=" + out] + SMALL_VISUALIZATION)),
    Command("dtl_postprocess", lambda ctx, out: ["--model_dir=" + ctx.inputs["model"], "--output_dir=" + out,
                                                 "--gin_config=" + MEAN_GIN],
            lambda ctx: ctx.path("postprocessed"), step="postprocess", finished_rerun=2,
            unfinished=mark_unfinished("postprocess"),
            damaged=_with_damaged("model", "exported/gaussian_encoder.pt", lambda ctx, out, model: [
                "--model_dir=" + model, "--output_dir=" + out, "--gin_config=" + MEAN_GIN])),
    Command("dtl_evaluate", lambda ctx, out: ["--input_dir=" + ctx.inputs["mean"], "--output_dir=" + out,
                                              "--gin_config=" + MIG_GIN],
            lambda ctx: ctx.path("mig"), step="evaluation", finished_rerun=2,
            unfinished=mark_unfinished("evaluation"),
            damaged=_with_damaged("mean", "exported/representation.pt", lambda ctx, out, mean: [
                "--input_dir=" + mean, "--output_dir=" + out, "--gin_config=" + MIG_GIN])),
    Command("dtl_reason", _reason_args, lambda ctx: ctx.path("reasoning"), step="abstract_reasoning",
            finished_rerun=0, unfinished=mark_unfinished("abstract_reasoning"),
            damaged=_with_damaged("abstract_mean", "exported/representation.pt",
                                  lambda ctx, out, mean: _reason_args(ctx, out, mean))),
    Command("dtl_udr", _udr_args, lambda ctx: ctx.path("udr"), step="evaluation", finished_rerun=2,
            unfinished=mark_unfinished("evaluation"),
            damaged=_with_damaged("model", "exported/gaussian_encoder.pt",
                                  lambda ctx, out, model: _udr_args(ctx, out, model))),
    Command("dtl_import", lambda ctx, out: ["--zip=" + ctx.inputs["published_zip"], "--output_directory=" + out],
            lambda ctx: ctx.path("imported"), step="import", finished_rerun=0,
            unfinished=mark_unfinished("import", "model"), damaged=_import_damaged,
            lock_dir=lambda out: os.path.join(out, "model"), owned_dir=lambda out: os.path.join(out, "model")),
    Command("dtl_report", lambda ctx, out: ["--input=" + ctx.inputs["aggregated"], "--output_dir=" + out],
            lambda ctx: ctx.path("report"), step="report", finished_rerun=2, unfinished=mark_unfinished("report"),
            damaged=_report_damaged),
    Command("dtl_visualize_dataset", lambda ctx, out: ["--name=dsprites_procedural",
                                                       "--path=" + os.path.dirname(out)],
            lambda ctx: ctx.path("pictures", "dsprites_procedural"), step="visualize_dataset", finished_rerun=0,
            unfinished=mark_unfinished("visualize_dataset"),
            damaged=lambda ctx, out: (["--name=no_such_data", "--path=" + os.path.dirname(out)],
                                      ["no_such_data"])),
    Command("dtl_aggregate", lambda ctx, out: ["--result_file_pattern=" + os.path.join(
        ctx.inputs["mig_records"], "**", "evaluation.json"), "--output_path=" + out],
            lambda ctx: ctx.path("analysis", "results.json"), single_file=True, finished_rerun=0,
            damaged=_aggregate_damaged, lock_dir=os.path.dirname, owned_dir=os.path.dirname),
    Command("dtl_submit", _submit_args, lambda ctx: ctx.path("jobs"), overwrite=None, finished_rerun=0,
            damaged=lambda ctx, out: (_submit_args(ctx, out) + ["--import_from=/data/{shard}.zip"],
                                      ["--import_from", "{shard}"])),
    Command("dtl_download", _download_args, lambda ctx: ctx.path("data"), overwrite="--force", finished_rerun=0,
            damaged=_download_damaged),
    Command("dtl_reproduce", _reproduce_args, lambda ctx: ctx.path("study_run"), finished_rerun=0,
            unfinished=mark_unfinished("evaluation", os.path.join("metrics", "mean", "mig")),
            damaged=_reproduce_damaged("reproduced", os.path.join("metrics", "mean", "mig"), _reproduce_args),
            prepared=_prepared_copy("reproduced"), owned_dir=lambda out: os.path.join(out, "metrics", "mean", "mig")),
    Command("dtl_reproduce_weakly_supervised", _weak_args, lambda ctx: ctx.path("weak_run"), finished_rerun=0,
            unfinished=mark_unfinished("evaluation", os.path.join("metrics", "mean", "mig_0")),
            damaged=_reproduce_damaged("weak_reproduced", os.path.join("metrics", "mean", "mig_0"), _weak_args),
            prepared=_prepared_copy("weak_reproduced"),
            owned_dir=lambda out: os.path.join(out, "metrics", "mean", "mig_0")),
    Command("dtl_reproduce_semi_supervised", _semi_args, lambda ctx: ctx.path("semi_run"), finished_rerun=0,
            unfinished=mark_unfinished("evaluation", os.path.join("metrics", "mean", "mig_3")),
            damaged=_reproduce_damaged("semi_reproduced", os.path.join("metrics", "mean", "mig_3"), _semi_args),
            prepared=_prepared_copy("semi_reproduced"),
            owned_dir=lambda out: os.path.join(out, "metrics", "mean", "mig_3")),
]

# Overwriting a pipeline redoes one metric (the issue's `--only_metrics=mig --overwrite`), not the whole model.
OVERWRITE_ARGS = {"dtl_reproduce": ["--only_metrics=mig", "--overwrite"]}

BY_NAME = {command.name: command for command in REGISTRY}
