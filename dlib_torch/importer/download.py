"""Fetching a published model's ZIP by number, through dtl_download's downloader (progress, Range resume, retries).

The reference published `https://storage.googleapis.com/disentanglement_lib/<study>/<model_num>.zip`
(unsupervised_study_v1: 0-10799). That bucket answers AccessDenied since 2026-03
(google-research/disentanglement_lib#39), so `mirror` (a base URL serving the same `<study>/<n>.zip` paths) or
`url` (with `{study}` and `{model_num}` placeholders) point elsewhere. ZIPs land in `<download_dir>/<study>/`
and their SHA-256 is recorded in `<download_dir>/dtl_download.sha256` on the first fetch; a ZIP already there
is checked against that record and not fetched again. A fetched or cached file that is not a readable ZIP (an
HTML error page, a truncated transfer) is set aside as `<n>.zip.damaged` and named, so the next run fetches it
again; a fetch whose SHA-256 differs from the recorded one is set aside as `<n>.zip.rejected` unless `force`.
"""
import os
import re
import zipfile

from dlib_torch.data.download import fetch
from dlib_torch.data.download import manifest
from dlib_torch.utils.errors import UserError

BUCKET = "https://storage.googleapis.com/disentanglement_lib"
BUCKET_ISSUE = "google-research/disentanglement_lib#39"


def model_url(study, model_num, mirror=None, url=None):
    """The URL of model `model_num`'s ZIP: `url` filled in, else under `mirror`, else in the historic bucket."""
    if url:
        try:
            return url.format(study=study, model_num=model_num)
        except (KeyError, IndexError, ValueError) as e:
            raise UserError("--url {!r} may only use the placeholders {{study}} and {{model_num}} ({})".format(
                url, e)) from None
    return "{}/{}/{}.zip".format((mirror or BUCKET).rstrip("/"), study, model_num)


def fetch_model(study, model_num, download_dir, mirror=None, url=None, retries=5, retry_wait=1.0, progress=True,
                log=None, force=False):
    """Path of model `model_num`'s ZIP in `download_dir`, fetched unless already there (and checked).

    `force` fetches it again even if it is there, and accepts a SHA-256 other than the recorded one.
    """
    relative = "{}/{}.zip".format(study, model_num)
    path = os.path.join(download_dir, study, "{}.zip".format(model_num))
    recorded = manifest.read(download_dir).get(relative)
    if os.path.exists(path) and not force:
        if recorded is not None and manifest.sha256_of(path) != recorded:
            raise UserError("{} differs from the SHA-256 recorded when it was fetched ({}); pass --force to fetch "
                            "it again".format(path, recorded))
        _check_zip(path)
        return path
    source = model_url(study, model_num, mirror, url)
    if log:
        log("dtl_import: downloading {} to {}".format(source, path))
    try:
        digest = fetch.fetch(source, path, retries=retries, retry_wait=retry_wait, progress=progress, log=log)
    except fetch.DownloadError as e:
        status = re.match(r"HTTP (\d+)", str(e))
        if status and status.group(1) in ("403", "404"):
            if not (mirror or url):
                raise UserError("{} answered HTTP {}: the disentanglement_lib bucket is reported unreachable since "
                                "2026-03 ({}); import a local copy with --zip=PATH or fetch from a mirror with "
                                "--mirror=URL".format(source, status.group(1), BUCKET_ISSUE)) from None
            raise UserError("{} answered HTTP {}: model {} of {} is not there; check --mirror or --url".format(
                source, status.group(1), model_num, study)) from None
        raise
    _check_zip(path)
    if recorded is not None and digest != recorded and not force:
        rejected = _set_aside(path, ".rejected")
        raise UserError("{} now has SHA-256 {}, not the {} recorded when it was first fetched; it was set aside as {}. "
                        "If the host now serves another version on purpose, pass --force to accept it".format(
                            source, digest, recorded, rejected))
    manifest.record(download_dir, {relative: digest})
    return path


def _check_zip(path):
    """Sets aside (and names) a downloaded file that is not a readable ZIP, so that the next run fetches again."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        bad = " ".join(str(e).split())[:120] or "unreadable"
    if bad is not None:
        damaged = _set_aside(path, ".damaged")
        raise UserError("{} is not a readable ZIP ({}; an error page or a truncated transfer?); it was set aside as "
                        "{} and the next run fetches it again".format(path, bad, damaged))


def _set_aside(path, suffix):
    target = path + suffix
    os.replace(path, target)
    return target
