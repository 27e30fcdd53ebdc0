r"""dtl_import: imports disentanglement_lib's pretrained models (or any it trained) without TensorFlow.

Examples:
  dtl_import --zip=downloads/0.zip --output_directory=output/{study}/{model_num}
  dtl_import --zip='downloads/*.zip'                # many archives; {model_num} comes from each train.gin
  dtl_import --model_num=0 --mirror=https://lab.example.org/disentanglement_lib
  dtl_import --model_num=0 --url='https://host/models/{study}/{model_num}.zip'
then: dtl_reproduce --model_dir=output/unsupervised_study_v1/0/model \
          --output_directory=output/unsupervised_study_v1/0 --study=unsupervised_study_v1

Writes <output_directory>/model/ (see dlib_torch/importer/import_model.py). Rerunning does nothing for a
finished import unless --overwrite. Exit status: 0 done, 2 bad input or a damaged archive (one line each).
"""
import glob
import os
import re
import sys

from absl import flags

from dlib_torch.cli import common

FLAGS = flags.FLAGS


def validate_flags(f):
    """Checks the flags before any work; returns the list of archives (None when fetching by --model_num)."""
    from dlib_torch.utils import validation
    from dlib_torch.utils.errors import UserError
    if bool(f.zip) == (f.model_num is not None):
        raise UserError("pass either --zip=PATH (a ZIP, a directory or a glob) or --model_num=N to fetch one")
    if f.zip and (f.mirror or f.url):
        raise UserError("--mirror and --url fetch by --model_num; they do not apply to --zip")
    if f.mirror and f.url:
        raise UserError("pass --mirror=BASE_URL or --url=URL, not both")
    validation.check_int("--retries", f.retries, minimum=0)
    validation.check_string("--study", f.study)
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", f.study) or f.study in (".", ".."):
        raise UserError("--study={!r} is not a study name (letters, digits, '_', '.', '-'); it names folders of the "
                        "output and download paths".format(f.study))
    validation.check_string("--output_directory", f.output_directory)
    from dlib_torch.utils import templates
    templates.check_template(f.output_directory, "--output_directory")
    if f.model_num is not None:
        validation.check_int("--model_num", f.model_num, minimum=0)
        return None
    sources = sorted(glob.glob(f.zip)) if glob.has_magic(f.zip) else [f.zip]
    if not sources:
        raise UserError("--zip={} matches no file".format(f.zip))
    missing = [s for s in sources if not os.path.exists(s)]
    if missing:
        raise UserError("--zip: {} does not exist".format(missing[0]))
    if len(sources) > 1 and "{model_num}" not in f.output_directory:
        raise UserError("--zip matches {} archives but --output_directory={} has no {{model_num}} to tell them "
                        "apart".format(len(sources), f.output_directory))
    return sources


def output_directory_for(template, study, model_num, source):
    from dlib_torch.utils.errors import UserError
    if model_num is None and "{model_num}" in template:
        raise UserError("{} records no model.model_num and its name is not a number; pass an --output_directory "
                        "without {{model_num}}".format(source))
    from dlib_torch.utils import templates
    return templates.fill(template, "--output_directory", study=study, model_num=model_num)


def main(argv):
    del argv
    from dlib_torch.utils.errors import UserError
    sources = validate_flags(FLAGS)
    if sources is None:  # cheap refusal of an unusable output directory before fetching anything
        from dlib_torch.utils import output_dirs
        output_directory = output_directory_for(FLAGS.output_directory, FLAGS.study, FLAGS.model_num, "")
        if output_dirs.check_output_directory(os.path.join(output_directory, "model"), "import", FLAGS.overwrite,
                                              finished_ok=True) == "finished_ok":
            print("dtl_import: {}/model is already imported; nothing to do (--overwrite imports it again)".format(
                output_directory))
            return
    from dlib_torch.data.ground_truth import util
    from dlib_torch.importer import download
    from dlib_torch.importer import import_model
    if sources is None:
        download_dir = FLAGS.download_dir or os.path.join(util.data_root(), "pretrained")
        sources = [download.fetch_model(FLAGS.study, FLAGS.model_num, download_dir, FLAGS.mirror, FLAGS.url,
                                        FLAGS.retries, progress=True, log=lambda m: print(m, flush=True),
                                        force=FLAGS.force)]
    failures = []
    for source in sources:
        try:
            model_num = FLAGS.model_num if FLAGS.model_num is not None else import_model.model_number(source)
            output_directory = output_directory_for(FLAGS.output_directory, FLAGS.study, model_num, source)
            status = import_model.import_model(source, output_directory, FLAGS.overwrite, FLAGS.verify_checksums)
        except UserError as e:
            if len(sources) == 1:
                raise
            print("dtl_import: error: {}".format(common.user_message(e)), file=sys.stderr, flush=True)
            failures.append(source)
            continue
        print("dtl_import: {} -> {} ({})".format(
            source, os.path.join(output_directory, "model"),
            "imported" if status == "imported" else "already imported; nothing to do"), flush=True)
    if failures:
        raise UserError("{} of {} archives failed (listed above); the others are imported".format(
            len(failures), len(sources)))


def run():
    flags.DEFINE_string("zip", None, "A model ZIP of disentanglement_lib, the directory it unpacks to, or a glob "
                        "of many (quote it).")
    flags.DEFINE_integer("model_num", None, "Fetch this model number of --study (instead of --zip).")
    flags.DEFINE_string("study", "unsupervised_study_v1", "The study the models belong to (names the download "
                        "path and fills {study}).")
    flags.DEFINE_string("mirror", None, "Base URL serving <study>/<model_num>.zip like the historic bucket.")
    flags.DEFINE_string("url", None, "URL of the ZIP; may hold {study} and {model_num}.")
    flags.DEFINE_string("download_dir", None, "Where fetched ZIPs are kept (default: "
                        "$DISENTANGLEMENT_LIB_DATA/pretrained).")
    flags.DEFINE_integer("retries", 5, "Retries of a failing download (each resumes where the last stopped).")
    flags.DEFINE_string("output_directory", os.path.join("output", "{study}", "{model_num}"),
                        "Output directory; the model lands in its model/ ({study} and {model_num} are filled in).")
    flags.DEFINE_boolean("verify_checksums", True, "Check the CRC32C of every tensor read.")
    flags.DEFINE_boolean("overwrite", False, "Import again even if the output holds a finished import.")
    flags.DEFINE_boolean("force", False, "With --model_num: fetch the ZIP again even if it was fetched before, and "
                         "accept a SHA-256 other than the one recorded then.")
    common.run_main(main, "dtl_import")


if __name__ == "__main__":
    run()
