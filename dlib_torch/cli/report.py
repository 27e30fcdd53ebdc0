"""dtl_report: the figures and tables of a sweep on one page, from the aggregated records.

Example: dtl_aggregate --output_path=results.json && dtl_report --input=results.json --output_dir=report
then open report/index.html. Works on partial sweeps (--study=NAME says how many of its models are present)
and on users' own studies; see dlib_torch/visualize/report/report.py. Exit status: 0 done, 2 bad input
(one-line error).
"""
from absl import flags

from dlib_torch.cli import common


def main(argv):
    del argv
    from dlib_torch.visualize.report import report
    f = flags.FLAGS
    path = report.report_with_gin(f.output_dir, f.input, f.result_file_pattern, f.study, f.overwrite,
                                  f.gin_config, f.gin_bindings)
    print("dtl_report: wrote {}".format(path))


def run():
    flags.DEFINE_multi_string("input", [], "JSON file written by dtl_aggregate (repeatable).")
    flags.DEFINE_string("result_file_pattern", None, "Glob of record files to read instead of --input, e.g. "
                        "'output/*/*/metrics/*/*/results/aggregate/evaluation.json'.")
    flags.DEFINE_string("output_dir", None, "Directory of the page (index.html, figures, tables/).")
    flags.DEFINE_string("study", None, "The study the records belong to (a shipped study's name or a study "
                        "folder): the page says how many of its models are present.")
    flags.DEFINE_boolean("overwrite", False, "Replace a finished --output_dir.")
    common.define_gin_flags()
    flags.mark_flag_as_required("output_dir")
    common.run_main(main, "dtl_report")


if __name__ == "__main__":
    run()
