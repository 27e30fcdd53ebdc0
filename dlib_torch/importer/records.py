"""The records of an imported model: its train step in our terms, and the published records marked as imported.

`translate_train_gin` re-reads the reference's operative train.gin through our gin registry (the configurable
and parameter names are the reference's, so nearly every binding carries over) and prints it as our gin does;
a binding we have no configurable for (TensorFlow-only settings) is dropped and listed. The published
postprocessing and metric records keep their keys; their aggregate files gain `source = 'disentanglement_lib'`
so that `dtl_aggregate` tells them from records that dlib_torch computed.
"""
import os
import tempfile
import uuid

import gin
import simplejson as json

from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError

SOURCE = "disentanglement_lib"
# The reference's train step results (train.py: tpu_estimator.evaluate, plus elapsed_time and uuid).
TRAIN_RESULT_KEYS = ("loss", "reconstruction_loss", "elbo", "regularizer", "kl_loss", "global_step", "elapsed_time",
                     "uuid")


def _register_configurables():
    """Imports the modules whose configurables a train.gin names (models, networks, losses, optimizers, data)."""
    # pylint: disable=unused-import,import-outside-toplevel
    from dlib_torch.methods.unsupervised import train  # noqa: F401  (model, vae, ..., dataset, held_out)


def gin_bindings(text):
    """{"scope.param": value text} of a gin file's text (values as gin prints them, wrapped lines joined)."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "config.gin")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return results.gin_dict(path)


def translate_train_gin(reference_text):
    """(our train.gin text, [dropped binding keys]) for the reference's operative train.gin text.

    It uses (and clears) gin's global config: call it outside a configured stage.
    """
    _register_configurables()
    kept, dropped = 0, []
    gin.clear_config()
    try:
        for key, value in gin_bindings(reference_text).items():
            if not _is_training_binding(key):
                dropped.append(key)
                continue
            try:
                gin.parse_config("{} = {}".format(key, value))
                kept += 1
            except (ValueError, KeyError, SyntaxError, TypeError):
                dropped.append(key)
        if not kept:
            raise UserError("the archive's train.gin holds no binding that dlib_torch knows; it is not a "
                            "disentanglement_lib model")
        text = gin.config_str()
    finally:
        gin.clear_config()
    return text, sorted(dropped)


# Modules whose configurables a training config may bind (whatever else this process has imported, such as the
# metrics in a test run, does not count: the result must not depend on what was imported before).
TRAINING_MODULES = ("dlib_torch.methods.", "dlib_torch.training.", "dlib_torch.data.", "tf.train")


def _is_training_binding(key):
    """True if the configurable of a binding key ('scope/name.param') belongs to the training stage."""
    name = key.rsplit(".", 1)[0].split("/")[-1]
    configurable = gin.config._REGISTRY.get_match(name)  # pylint: disable=protected-access
    return configurable is not None and configurable.module.startswith(TRAINING_MODULES)


def translate_train_results(reference_results, source):
    """The published train results with our keys (the reference's; anything else is kept as published)."""
    if not isinstance(reference_results, dict):
        raise UserError("{} is not a JSON object of train results".format(source))
    translated = {key: reference_results[key] for key in TRAIN_RESULT_KEYS if key in reference_results}
    translated.update({key: value for key, value in reference_results.items() if key not in translated})
    if "global_step" in translated:
        step = translated["global_step"]
        try:
            if isinstance(step, bool) or float(step) != int(float(step)) or int(float(step)) < 0:
                raise ValueError
            translated["global_step"] = int(float(step))
        except (TypeError, ValueError, OverflowError):
            raise UserError("{}: global_step = {!r} is not a step count; the archive is damaged".format(
                source, step)) from None
    return translated


def mark_imported(aggregate_bytes, source):
    """An aggregate record of the archive with `source = 'disentanglement_lib'` added (JSON text)."""
    try:
        record = json.loads(aggregate_bytes.decode("utf-8"))
    except RecursionError:
        raise UserError("{} is nested too deeply to be a record; the archive is damaged".format(source)) from None
    except (UnicodeDecodeError, ValueError) as e:
        raise UserError("{} is not valid JSON ({}); the archive is damaged".format(source, e)) from None
    if not isinstance(record, dict):
        raise UserError("{} is not a JSON object; the archive is damaged".format(source))
    record["source"] = SOURCE
    return json.dumps(record, cls=results.Encoder, indent=2, ignore_nan=False)


def new_uuid():
    return str(uuid.uuid4())
