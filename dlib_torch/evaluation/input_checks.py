"""Cheap checks of an evaluation's input (no torch): is it a finished representation, and which model made it.

A user who points `--input_dir` at a trained model (not at its postprocessed representation) is told to
postprocess it into a sibling folder, `<out>/postprocessed/mean` beside `<out>/model`, as dtl_reproduce does.
"""
import json
import os

from dlib_torch.utils import output_dirs


def require_representation(input_dir):
    """Raises a one-line UserError unless `input_dir` holds a finished `postprocess` step."""
    output_dirs.require_finished(input_dir, "postprocess", postprocess_hint(input_dir))


def postprocess_hint(input_dir):
    """The command that makes `input_dir` (or, for a model folder, a sibling of it) a representation."""
    if os.path.exists(os.path.join(input_dir, "results", "aggregate", "train.json")):
        target = os.path.join(os.path.dirname(os.path.abspath(input_dir)), "postprocessed", "mean")
        return ("{0} is a trained model, not a representation: postprocess it first, e.g. dtl_postprocess "
                "--model_dir={0} --output_dir={1} --gin_config=mean.gin (mean.gin: postprocess.postprocess_fn = "
                "@mean_representation, dataset.name = 'auto', postprocess.random_seed = 0), then pass "
                "--input_dir={1}".format(input_dir, target))
    return "postprocess the model first with dtl_postprocess --model_dir=<model> --output_dir={}".format(input_dir)


def recorded_model_dir(input_dir):
    """The trained model recorded by dtl_postprocess in `input_dir`'s records, or None."""
    path = os.path.join(input_dir, "results", "json", "postprocess_results.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("model_dir")
    except (OSError, ValueError, AttributeError, RecursionError):
        return None


def trained_model_candidates(input_dir):
    """Where the trained model of a representation may be (inputs too, which an output may not hold): the
    `model_dir` its postprocessing recorded, and `<out>/model` beside `<out>/postprocessed/<name>`."""
    layout = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(input_dir))), "model")
    return [path for path in (recorded_model_dir(input_dir), layout) if path]
