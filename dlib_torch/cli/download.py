"""dtl_download: downloads the real data sets into the data root, in the layout the loaders read.

Example: dtl_download --dataset=dsprites_full,shapes3d --data_dir=/data/disentanglement
         dtl_download --dataset=all --verify
         dtl_download --dataset=dsprites_full --force     # replace a damaged file
"""
import os

from absl import flags

from dlib_torch.cli import common


def main(argv):
    del argv
    from dlib_torch.data.download import download
    from dlib_torch.data.download import sources
    from dlib_torch.utils.errors import UserError
    f = flags.FLAGS
    if f.list:
        for remote in sources.FILES:
            print("{:26} {:>12} {}  ->  {}".format(remote.key, remote.size or "?", remote.url, remote.path))
        return
    if not f.dataset:
        raise UserError("--dataset is required: NAME[,NAME...] or all; valid names: {}".format(
            ", ".join(sorted(sources.DATASET_FILES))))
    data_dir = f.data_dir or os.environ.get("DISENTANGLEMENT_LIB_DATA", ".")
    try:
        download.download(f.dataset, data_dir,
                          url_overrides=sources.parse_assignments(f.url, "url"),
                          sha256_overrides=sources.parse_assignments(f.sha256, "sha256"),
                          mirror=f.mirror, verify=f.verify, retries=f.retries, retry_wait=f.retry_wait,
                          progress=f.progress, force=f.force)
    except OSError as e:  # e.g. an unwritable data root, or a full disk while unpacking: one line, not a trace
        raise UserError("{}{}".format(e.filename + ": " if e.filename else "", e.strerror or e)) from e
    return "{} {} in {}".format(f.dataset, "verified" if f.verify else "ready", data_dir)


def run():
    flags.DEFINE_string("dataset", None, "Data sets to fetch: NAME[,NAME...] (as `dataset.name`) or `all`.")
    flags.DEFINE_string("data_dir", None, "Data root (default: $DISENTANGLEMENT_LIB_DATA, else the current "
                                          "directory).")
    flags.DEFINE_multi_string("url", [], "KEY=URL: fetch file KEY from URL (see --list for the keys); also "
                                         "$DTL_DOWNLOAD_URL_<KEY>.")
    flags.DEFINE_string("mirror", None, "Base URL serving every file under its original name; also "
                                        "$DTL_DOWNLOAD_MIRROR.")
    flags.DEFINE_multi_string("sha256", [], "KEY=DIGEST: the expected SHA-256 of file KEY when its host serves "
                                            "another version than the published one (KEY= for none).")
    flags.DEFINE_boolean("verify", False, "Check the files in place: size and SHA-256 against the published ones "
                                          "or the manifest (dtl_download.sha256 in the data root), and that files "
                                          "without a published digest load.")
    flags.DEFINE_boolean("force", False, "Download the files again even if they are in place, replacing them "
                                         "(e.g. a damaged file).")
    flags.DEFINE_integer("retries", 5, "Retries of a transient network failure (each resumes the download).")
    flags.DEFINE_float("retry_wait", 1.0, "Seconds before the first retry; doubles at each retry.")
    flags.DEFINE_boolean("progress", True, "Show a progress bar (bytes, rate, time left).")
    flags.DEFINE_boolean("list", False, "List the files, their keys, sizes, URLs and paths, then exit.")
    common.run_main(main, "dtl_download")


if __name__ == "__main__":
    run()
