r"""dtl_aggregate: every evaluation record of a sweep in one JSON file, loadable as a pandas DataFrame.

The output file is listed in its folder's manifest (.dtl_manifest.jsonl), so a rerun replaces its own file;
a file it did not write (or that changed since) is replaced only with --overwrite, and a record it reads never.

Example: dtl_aggregate --result_file_pattern='output/*/*/metrics/*/*/results/aggregate/evaluation.json' \
    --output_path=results.json
then in Python: dlib_torch.utils.aggregate_results.load_aggregated_json_results("results.json").
"""
from absl import flags

from dlib_torch.cli import common

# The layout dtl_reproduce writes: <output>/<study>/<model_num>/metrics/<representation>/<metric>/.
DEFAULT_PATTERN = "output/*/*/metrics/*/*/results/aggregate/evaluation.json"


def main(argv):
    del argv
    from dlib_torch.utils import aggregate_results
    summary = aggregate_results.aggregate_results_to_json(flags.FLAGS.result_file_pattern,
                                                          flags.FLAGS.output_path, overwrite=flags.FLAGS.overwrite)
    skipped = " ({} unreadable or unfinished records skipped, listed above)".format(
        summary.num_skipped) if summary.num_skipped else ""
    return "wrote {} records to {}{}".format(summary.num_records, flags.FLAGS.output_path, skipped)


def run():
    flags.DEFINE_string("result_file_pattern", DEFAULT_PATTERN,
                        "Glob of the records to aggregate (`**` matches any number of folders).")
    flags.DEFINE_string("output_path", "results.json", "JSON file to write. A rerun replaces the file it wrote; "
                        "any other existing file needs --overwrite, and one of the records read is never replaced.")
    flags.DEFINE_boolean("overwrite", False, "Replace --output_path even if this command did not write it.")
    common.run_main(main, "dtl_aggregate")


if __name__ == "__main__":
    run()
