"""All the evaluation records of a sweep in one JSON file, loadable as a pandas DataFrame.

Same API and file format as disentanglement_lib's utils/aggregate_results.py: one row per record, the
record's keys as columns ("train_config.vae.beta", "evaluation_results.discrete_mig", ...) plus `path`.
Records are read in parallel; a record that cannot be read (being written, truncated, not JSON) is
skipped and reported, so aggregating while a sweep is still running is safe.
"""
import collections
import glob
import multiprocessing
import os
import sys

from absl import logging
import pandas as pd
import simplejson as json

from dlib_torch.utils import atomic
from dlib_torch.utils import output_dirs
from dlib_torch.utils.errors import UserError

# A pool pays off only beyond a few hundred files; chunks keep the inter-process traffic coarse.
_MIN_FILES_FOR_POOL = 512
_CHUNK_SIZE = 256
_NUM_SKIPPED_SHOWN = 5

Summary = collections.namedtuple("Summary", ["num_records", "num_skipped", "skipped_paths"])


def aggregate_results_to_json(result_file_pattern, output_path, num_processes=None, overwrite=False):
    """Aggregates every record matching the glob into one JSON file (written atomically).

    The file is recorded in its folder's manifest (utils/manifest.py): a rerun replaces a file this function
    wrote and that is unchanged since; any other existing file is refused (one line) unless `overwrite`, and
    one of the records read never.

    Args:
      result_file_pattern: glob of the records, e.g. "output/*/*/metrics/*/*/results/aggregate/evaluation.json"
        (`**` matches any number of folders).
      output_path: the JSON file to write.
      num_processes: reader processes; default: the CPUs this process may use.
      overwrite: replace an existing file this function did not write.

    Returns:
      Summary(num_records, num_skipped, skipped_paths): skipped_paths holds the first few skipped files.
    """
    if output_path.endswith(("/", os.sep)) or os.path.isdir(output_path):
        raise UserError("--output_path={} is a directory; name the JSON file to write, e.g. {}".format(
            output_path, os.path.join(output_path, "results.json")))
    paths = _matching(result_file_pattern)
    directory = os.path.dirname(os.path.abspath(output_path))
    with output_dirs.owned_files(directory, overwrite, inputs=paths) as owned:
        owned.check(output_path)
        records, skipped = _collect(paths, num_processes)
        with atomic.atomic_path(output_path) as tmp:
            pd.DataFrame(records).to_json(path_or_buf=tmp)
    return Summary(len(records), len(skipped), skipped[:_NUM_SKIPPED_SHOWN])


def load_records(result_file_pattern, num_processes=None):
    """The records matching the glob, read in parallel and without writing a file (dtl_report's
    --result_file_pattern); returns (records, number of unreadable files skipped)."""
    records, skipped = _collect(_matching(result_file_pattern), num_processes)
    return records, len(skipped)


def load_aggregated_json_results(source_path):
    """Loads a file written by `aggregate_results_to_json` as a pandas DataFrame (one row per record)."""
    return pd.read_json(source_path, orient="columns")


def _matching(result_file_pattern):
    """The record files matching the glob, sorted; no match is a UserError."""
    paths = sorted(glob.glob(result_file_pattern, recursive=True))
    if not paths:
        raise UserError("no result files match {!r}; check --result_file_pattern".format(result_file_pattern))
    return paths


def _collect(paths, num_processes):
    """(records, skipped paths) of the record files."""
    records, skipped = _load_all(paths, num_processes)
    if skipped:
        logging.warning("skipped %d unreadable or unfinished records, e.g.:\n  %s", len(skipped),
                        "\n  ".join(skipped[:_NUM_SKIPPED_SHOWN]))
    return records, skipped


def _load_all(paths, num_processes):
    """Returns (records in path order, skipped paths), reading in parallel when there are many files."""
    num_processes = num_processes or _available_cpus()
    if num_processes > 1 and len(paths) >= _MIN_FILES_FOR_POOL:
        chunks = [paths[i:i + _CHUNK_SIZE] for i in range(0, len(paths), _CHUNK_SIZE)]
        with multiprocessing.get_context(_start_method()).Pool(num_processes) as pool:
            loaded = [item for chunk in pool.imap(_load_chunk, chunks) for item in chunk]
    else:
        loaded = _load_chunk(paths)
    records = [record for record in loaded if not isinstance(record, str)]
    skipped = [record for record in loaded if isinstance(record, str)]
    return records, skipped


def _load_chunk(paths):
    """Each path's record with its `path` key added, or the path itself when it cannot be read."""
    return [_load(path) for path in paths]


def _load(path):
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f, allow_nan=True)  # NaN scores, as save_dict writes them
    except (OSError, ValueError, RecursionError):  # vanished, unreadable, truncated, not JSON or hostile
        return path
    if not isinstance(record, dict):
        return path
    # Interned keys are shared by every record, which keeps 100,000 records small in memory and in transit.
    result = {sys.intern(key): value for key, value in record.items()}
    result["path"] = path
    return result


def _available_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _start_method():
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
