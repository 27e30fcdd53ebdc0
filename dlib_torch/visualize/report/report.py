"""The report stage (`dtl_report`): the papers' figures and tables from the aggregated records of a sweep.

`<output_dir>/` receives:
  index.html              one self-contained page (inline style, no scripts or remote files): each figure and
                          table with a one-line caption naming what it shows and from how many models
  *.png                   the figures (matplotlib, Agg)
  tables/*.csv            every table, and the numbers behind each figure
  reconstructions/*.png   the held-out panels of dtl_visualize, copied for the generalisation models
  results/                the records of step `report` (numbers of records, models, figures and tables)
Families drawn when their records are present (each module's docstring says which paper and figure), in
page order: overview (study coverage), generalisation, paper_comparison (ours beside the paper's tables),
reconstructions, composition, abstract_reasoning, correlation (scores against the correlation strength of the
training data), metric_correlation, score_distributions, regularisation, mean_vs_sampled, unsupervised_scores,
fairness. A family whose records or columns are missing is skipped with a note on the page, never an error, so
the report works on partial sweeps and on users' own studies. Tables that average over seeds average the seeds
of one configuration only (settings.py). A finished output directory is kept unless `overwrite`.
"""
import glob
import os
import time

from absl import logging
import gin

from dlib_torch.utils import gin_utils
from dlib_torch.utils import output_dirs
from dlib_torch.utils import results
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import UserError

STEP_NAME = "report"


def report_with_gin(output_dir, input_paths=(), result_file_pattern=None, study=None, overwrite=False,
                    gin_config_files=None, gin_bindings=None):
    """Parses the gin files and bindings, writes the report, clears gin.

    Args:
      output_dir: directory of the page.
      input_paths: JSON files written by dtl_aggregate.
      result_file_pattern: glob of record files (results/aggregate/*.json) to read instead (or as well).
      study: name or folder of the study the records belong to (the page says how many of its models are
        present); None to leave coverage out.
      overwrite: replace a finished `output_dir`.
      gin_config_files: gin files to parse (parameters of `report`).
      gin_bindings: gin bindings parsed after the files.
    """
    with gin_utils.configured(gin_config_files, gin_bindings):
        return report(output_dir, input_paths, result_file_pattern, study, overwrite)


@gin.configurable("report", denylist=["output_dir", "input_paths", "result_file_pattern", "study", "overwrite"])
def report(output_dir, input_paths=(), result_file_pattern=None, study=None, overwrite=False,
           representation="auto", main_scores=None, max_reconstructions=48, dpi=100):
    """Writes the report of the records (see the module docstring); returns the path of index.html.

    Args:
      output_dir, input_paths, result_file_pattern, study, overwrite: see `report_with_gin`.
      representation: the representation of the single-representation figures; "auto": mean when present.
      main_scores: {metric name: result key} to plot instead of a metric's main score (for a user's metric
        or another key of a known one).
      max_reconstructions: most held-out panels copied onto the page.
      dpi: resolution of the figures.
    """
    start = time.time()
    input_paths = list(input_paths or [])
    main_scores = validate_parameters(output_dir, input_paths, result_file_pattern, representation, main_scores,
                                      max_reconstructions, dpi)
    record_files = sorted(glob.glob(result_file_pattern, recursive=True)) if result_file_pattern else []
    if result_file_pattern and not record_files:
        raise UserError("no result files match {!r}; check --result_file_pattern".format(result_file_pattern))
    inputs = input_paths + record_files
    output_dirs.check_output_directory(output_dir, STEP_NAME, overwrite, inputs=inputs)
    study_object = _study(study)

    from dlib_torch.visualize.report import records as records_lib
    frame = records_lib.load(input_paths, result_file_pattern)
    records = records_lib.Records(frame, main_scores)
    if representation != "auto":
        validation.check_choice("report.representation", representation, ["auto"] + records.representations())
        records.preferred_representation = representation

    if study_object is None:
        study_object = _study_of_paths(records)

    with output_dirs.claim(output_dir, STEP_NAME, overwrite, inputs=inputs):
        page = write_page(output_dir, records, study_object, max_reconstructions, dpi)
        results_dict = {"elapsed_time": time.time() - start, "num_records": len(records.frame),
                        "num_models": records.num_models, "num_files": len(page.files),
                        "inputs": [os.path.abspath(p) for p in input_paths] or result_file_pattern,
                        "study": getattr(study_object, "name", None)}
        results.update_result_directory(os.path.join(output_dir, "results"), STEP_NAME, results_dict)
    return os.path.join(output_dir, "index.html")


def write_page(output_dir, records, study=None, max_reconstructions=48, dpi=100):
    """Draws every family into a Page in `output_dir` and writes index.html; returns the Page."""
    import matplotlib
    matplotlib.use("Agg")
    from dlib_torch.visualize.report import abstract_reasoning
    from dlib_torch.visualize.report import composition
    from dlib_torch.visualize.report import correlation
    from dlib_torch.visualize.report import fairness
    from dlib_torch.visualize.report import generalisation
    from dlib_torch.visualize.report import mean_vs_sampled
    from dlib_torch.visualize.report import metric_correlation
    from dlib_torch.visualize.report import overview
    from dlib_torch.visualize.report import page as page_lib
    from dlib_torch.visualize.report import paper_comparison
    from dlib_torch.visualize.report import reconstructions
    from dlib_torch.visualize.report import regularisation
    from dlib_torch.visualize.report import score_distributions
    from dlib_torch.visualize.report import unsupervised_scores

    title = "dlib_torch report" + (": {}".format(study.name) if study is not None else "")
    page = page_lib.Page(output_dir, title, dpi=dpi)
    page.summary = overview.summary_lines(records, study)
    overview.add_to_page(page, records, study)
    # The studies' own results first (they are absent from other studies), then Locatello et al.'s figures.
    models = _drawn(page, generalisation, records)
    _drawn(page, paper_comparison, records)
    _drawn(page, reconstructions, models, max_reconstructions)
    for family in (composition, abstract_reasoning, correlation, metric_correlation, score_distributions,
                   regularisation, mean_vs_sampled, unsupervised_scores, fairness):
        _drawn(page, family, records)
    page.write()
    return page


def _drawn(page, family, *args):
    """Runs `family.add_to_page`; records it cannot handle (a user's study, an unforeseen shape) cost that family
    only: the error goes to the log with its traceback and onto the page as a note, and the rest is drawn. A
    failure to write (full disk, permissions) or a user error fails the command: the page is left unfinished."""
    try:
        return family.add_to_page(page, *args)
    except (OSError, UserError, MemoryError):
        raise
    except Exception as e:  # pylint: disable=broad-except
        name = family.__name__.rsplit(".", 1)[-1]
        logging.exception("dtl_report: the %s figures failed", name)
        page.section(name.replace("_", " ").capitalize()).note(
            "could not be drawn from these records ({}: {}); the log has the details.".format(
                type(e).__name__, " ".join(str(e).split())[:200]))
        return None


def validate_parameters(output_dir, input_paths, result_file_pattern, representation, main_scores,
                        max_reconstructions, dpi):
    """Checks every user-facing value before any work; returns main_scores as a dict."""
    validation.check_string("--output_dir", output_dir)
    if not input_paths and not result_file_pattern:
        raise UserError("give the records: --input=results.json (written by dtl_aggregate) or "
                        "--result_file_pattern='output/*/*/metrics/*/*/results/aggregate/evaluation.json'")
    for path in input_paths:
        validation.check_string("--input", path)
    validation.check_string("report.representation", representation)
    validation.check_int("report.max_reconstructions", max_reconstructions, minimum=0, maximum=10000)
    validation.check_int("report.dpi", dpi, minimum=30, maximum=600)
    if main_scores is None:
        return {}
    if not hasattr(main_scores, "items") or not all(isinstance(k, str) and isinstance(v, str) and k and v
                                                    for k, v in main_scores.items()):
        raise ConfigError("report.main_scores = {!r} is not allowed; it must map metric names to result keys, "
                          "e.g. {{'mig': 'discrete_mig'}}".format(main_scores))
    return dict(main_scores)


def _study_of_paths(records):
    """The shipped study the records' paths name (output/<study>/<model_num>/...), if any."""
    from dlib_torch.config import reproduce
    from dlib_torch.visualize.report import records as records_lib
    name = records_lib.study_from_paths(records.frame)
    if name not in reproduce.study_names():
        return None
    study = reproduce.get_study(name)
    study.inferred = True
    return study


def _study(name_or_path):
    if not name_or_path:
        return None
    from dlib_torch.config import reproduce
    return reproduce.get_study(name_or_path)
