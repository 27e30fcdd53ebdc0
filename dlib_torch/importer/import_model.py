"""The import stage (`dtl_import`): a disentanglement_lib model becomes a dlib_torch model, without TensorFlow.

`<output_directory>/model/` receives:
  exported/gaussian_encoder.pt, exported/decoder.pt   TorchScript modules (DESIGN §3), as dtl_train exports,
  results/                    step `train` (the published train.gin read through our gin, the published train
                              results), then step `import` (archive, its SHA-256, the variables read, dropped
                              bindings); `aggregate/import.json` marks the import as finished,
  published/                  the archive's `visualizations/`, `postprocessed/<p>/results/` and
                              `metrics/<p>/<m>/results/`, their aggregate records marked
                              `source = 'disentanglement_lib'`.
The published records live inside `model/`, so `dtl_reproduce --model_dir=<out>/model --output_directory=<out>`
re-evaluates the model beside them without mistaking them for its own finished steps.

Everything is read, checked (ZIP CRCs, TensorBundle checksums, variable names and shapes) and converted before
the directory is claimed, so a damaged archive leaves nothing behind. A finished import is left alone (rerunning
is a no-op) unless `overwrite`.
"""
import os
import time

import numpy as np
import simplejson as json
import torch

from dlib_torch.importer import archive as archive_lib
from dlib_torch.importer import convert
from dlib_torch.importer import records
from dlib_torch.utils import atomic
from dlib_torch.utils import exported_modules
from dlib_torch.utils import output_dirs
from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError

STEP = "import"
PUBLISHED = "published"
# What the archive's records are copied from (TF-Hub modules and checkpoints are not copied).
PUBLISHED_PREFIXES = ("visualizations/", "postprocessed/", "metrics/")


class ImportedModel:
    """Everything an import writes, prepared in memory."""

    def __init__(self, encoder, decoder, observation_shape, train_gin, train_results, published, import_results,
                 archive):
        self.encoder, self.decoder, self.observation_shape = encoder, decoder, observation_shape
        self.train_gin, self.train_results = train_gin, train_results
        # {relative path under published/: the marked record's text, or None: streamed from the archive}
        self.published = published
        self.import_results = import_results
        self.archive = archive


def model_number(source):
    """The model number an archive records (train.gin's `model.model_num`), else its file name's, else None."""
    archive = archive_lib.Archive(source)
    value = records.gin_bindings(archive.read(archive_lib.TRAIN_GIN).decode("utf-8", "replace")).get(
        "model.model_num", "None").strip()
    if value.isdigit():
        return int(value)
    stem = os.path.basename(source.rstrip("/")).split(".")[0]
    return int(stem) if stem.isdigit() else None


def import_model(source, output_directory, overwrite=False, verify_checksums=True):
    """Imports the disentanglement_lib model in `source` (ZIP or directory) into `output_directory`.

    Returns "imported" or "skipped" (already imported, nothing done).
    """
    model_dir = os.path.join(output_directory, "model")
    state = output_dirs.check_output_directory(model_dir, STEP, overwrite, inputs=[source], finished_ok=True)
    if state == "finished_ok":
        return "skipped"
    start = time.time()
    prepared = prepare(source, verify_checksums)
    with output_dirs.claim(model_dir, STEP, overwrite, inputs=[source], finished_ok=True) as claimed:
        if claimed.skip:
            return "skipped"
        write(prepared, model_dir, time.time() - start, start)
    return "imported"


def prepare(source, verify_checksums=True):
    """Reads, checks and converts the archive; raises a one-line UserError for anything wrong in it."""
    archive = archive_lib.Archive(source)
    archive.verify()
    reference_gin = archive.read(archive_lib.TRAIN_GIN).decode("utf-8", "replace")
    spec = convert.model_spec(records.gin_bindings(reference_gin), "{}: {}".format(source, archive_lib.TRAIN_GIN))
    bundle, variables = archive.variables(verify_checksums)
    encoder, decoder, observation_shape = convert.convert(bundle, spec, "{}: {}".format(source, variables))
    _check_runs(encoder, decoder, observation_shape, spec.num_latent, source)
    train_gin, dropped = records.translate_train_gin(reference_gin)
    results_path = "model/results/json/train_results.json"
    train_results = {}
    if archive.exists(results_path):
        train_results = records.translate_train_results(_json(archive.read(results_path), source, results_path),
                                                        "{}: {}".format(source, results_path))
    published = {}
    for path in archive.files():
        if not path.startswith(PUBLISHED_PREFIXES) or "/tfhub/" in path or "/tf_checkpoint/" in path:
            continue
        published[path] = None
        if "/results/aggregate/" in path and path.endswith(".json"):
            published[path] = records.mark_imported(archive.read(path), "{}: {}".format(source, path))
    import_results = {
        "source": records.SOURCE,
        "archive": os.path.abspath(source),
        "archive_sha256": exported_modules.file_digest(source) if os.path.isfile(source) else None,
        "variables": variables,
        "architecture": "{} / {}".format(spec.encoder_fn, spec.decoder_fn),
        "num_latent": spec.num_latent,
        "activation": spec.activation,
        "dropped_train_bindings": dropped,
        "num_published_files": len(published),
    }
    return ImportedModel(encoder, decoder, observation_shape, train_gin, train_results, published, import_results,
                         archive)


def write(prepared, model_dir, prepare_time, start):
    """Writes the exported modules, the published files, then the train and import records (import last)."""
    num_latent = prepared.encoder.num_latent
    exported_modules.export_as_torchscript({
        "gaussian_encoder.pt": (prepared.encoder, torch.zeros([1] + prepared.observation_shape)),
        "decoder.pt": (prepared.decoder, torch.zeros([1, num_latent])),
    }, os.path.join(model_dir, "exported"))
    for path, data in prepared.published.items():
        target = os.path.join(model_dir, PUBLISHED, *path.split("/"))
        if data is not None:
            atomic.write_text(target, data)
            continue
        with atomic.atomic_path(target) as tmp:
            with open(tmp, "wb") as f:
                prepared.archive.copy_to(path, f)
    result_dir = os.path.join(model_dir, "results")
    atomic.write_text(os.path.join(result_dir, "gin", "train.gin"), prepared.train_gin)
    json_dir = os.path.join(result_dir, "json")
    results.save_dict(os.path.join(json_dir, "train_config.json"),
                      results.gin_dict(os.path.join(result_dir, "gin", "train.gin")))
    results.save_dict(os.path.join(json_dir, "train_results.json"), prepared.train_results)
    results.save_dict(os.path.join(result_dir, "aggregate", "train.json"), results.aggregate_json_results(json_dir))
    import_results = dict(prepared.import_results, conversion_time=prepare_time)
    import_results["elapsed_time"] = time.time() - start
    import_results["uuid"] = records.new_uuid()
    results.save_dict(os.path.join(json_dir, "import_results.json"), import_results)
    results.save_dict(os.path.join(result_dir, "aggregate", "import.json"), results.aggregate_json_results(json_dir))


def _check_runs(encoder, decoder, observation_shape, num_latent, source):
    """One forward pass of each network, so an architecture that does not fit fails here, by name."""
    with torch.no_grad():
        mean, logvar = encoder(torch.zeros([2] + observation_shape))
        logits = decoder(mean)
    if list(mean.shape) != [2, num_latent] or list(logvar.shape) != [2, num_latent] or \
            list(logits.shape) != [2] + observation_shape or not np.isfinite(logits.numpy()).all():
        raise UserError("{}: the converted networks do not map {} images to {} latents and back".format(
            source, observation_shape, num_latent))


def _json(data, source, path):
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:
        raise UserError("{}: {} is nested too deeply to be a record; the archive is damaged".format(
            source, path)) from None
    except (UnicodeDecodeError, ValueError) as e:
        raise UserError("{}: {} is not valid JSON ({}); the archive is damaged".format(source, path, e)) from None
