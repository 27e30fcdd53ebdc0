"""Fetching a published model's ZIP by number, through dtl_download's downloader (progress, Range resume, retries).

The reference published `https://storage.googleapis.com/disentanglement_lib/<study>/<model_num>.zip`
(unsupervised_study_v1: 0-10799). That bucket answers AccessDenied since 2026-03
(google-research/disentanglement_lib#39), so `mirror` (a base URL serving the same `<study>/<n>.zip` paths) or
`url` (with `{study}` and `{model_num}` placeholders) point elsewhere. ZIPs land in `<download_dir>/<study>/`
and their SHA-256 is recorded in `<download_dir>/dtl_download.sha256` on the first fetch; a ZIP already there
is checked against that record and not fetched again.
"""
import os
import re

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
                log=None):
    """Path of model `model_num`'s ZIP in `download_dir`, fetched unless already there (and checked)."""
    relative = "{}/{}.zip".format(study, model_num)
    path = os.path.join(download_dir, study, "{}.zip".format(model_num))
    if os.path.exists(path):
        recorded = manifest.read(download_dir).get(relative)
        if recorded is not None and manifest.sha256_of(path) != recorded:
            raise UserError("{} differs from the SHA-256 recorded when it was fetched ({}); delete it and rerun to "
                            "fetch it again".format(path, recorded))
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
    manifest.record(download_dir, {relative: digest})
    return path
