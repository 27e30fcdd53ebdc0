"""dtl_download's work: fetch the files of the requested data sets, unpack them, build their caches.

Files land in the reference's layout under the data root (what the loaders read). A file already in place is
never downloaded again nor touched; `verify=True` re-hashes the files in place against the published digests
or, where none is published, against the manifest that recorded them on their first download.
"""
import os

from dlib_torch.data.download import fetch
from dlib_torch.data.download import manifest
from dlib_torch.data.download import sources
from dlib_torch.data.download import unpack
from dlib_torch.utils import file_lock
from dlib_torch.utils.errors import UserError


def download(dataset_names, data_dir, url_overrides=None, sha256_overrides=None, mirror=None, verify=False,
             retries=5, retry_wait=1.0, progress=True, environ=None, log=None):
    """Fetches, unpacks and converts the files of `dataset_names` ("all" or a comma-separated string or list).

    Returns the number of files downloaded.
    """
    log = log or (lambda message: print(message, flush=True))
    names = sources.resolve_dataset_names(dataset_names)
    files = sources.remote_files(names, url_overrides, sha256_overrides, mirror, environ)
    os.makedirs(data_dir, exist_ok=True)
    downloaded = 0
    for remote in files:
        # One dtl_download at a time puts files into a data root; a second one waits, then finds them in place.
        with file_lock.locked(os.path.join(data_dir, ".dtl_download_root.lock")):
            downloaded += _ensure_file(remote, data_dir, retries, retry_wait, progress, log)
    if verify:
        verify_files(files, data_dir, log)
    for name in names:
        _build_cache(name, data_dir)
    log("{}: ready in {} ({} file(s) downloaded)".format(", ".join(names), data_dir, downloaded))
    return downloaded


def final_paths(remote, data_dir):
    """The files the loaders read that come from `remote`, relative to the data root."""
    if remote.unpack == "gunzip":
        return [remote.path[:-len(".gz")]]
    if remote.unpack == "cars":
        directory = os.path.join(data_dir, "cars")
        names = sorted(n for n in os.listdir(directory) if n.endswith(".mat")) if os.path.isdir(directory) else []
        return ["cars/" + n for n in names]
    return [remote.path]


def _in_place(remote, data_dir):
    if remote.unpack == "cars":
        return bool(final_paths(remote, data_dir))
    return os.path.exists(os.path.join(data_dir, final_paths(remote, data_dir)[0]))


def _ensure_file(remote, data_dir, retries, retry_wait, progress, log):
    """Puts `remote`'s files in place unless they are already; returns 1 if it downloaded, else 0."""
    if _in_place(remote, data_dir):
        _check_published_size(remote, data_dir)
        log("{}: in place, not downloaded again".format(remote.key))
        return 0
    target = os.path.join(data_dir, remote.path)
    downloaded = 0
    if not os.path.exists(target):  # else a verified download whose unpacking was interrupted
        log("{}: downloading {} to {}".format(remote.key, remote.url, target))
        digest = fetch.fetch(remote.url, target, remote.size, remote.sha256, retries, retry_wait, progress, log=log)
        if not remote.unpack:
            manifest.record(data_dir, {remote.path: digest})
        downloaded = 1
    if remote.unpack == "gunzip":
        final = final_paths(remote, data_dir)[0]
        manifest.record(data_dir, {final: unpack.gunzip(target, os.path.join(data_dir, final))})
        os.unlink(target)
    elif remote.unpack == "cars":
        cars_dir = os.path.join(data_dir, "cars")
        if os.path.isdir(cars_dir) and not os.listdir(cars_dir):
            os.rmdir(cars_dir)
        elif os.path.exists(cars_dir):
            raise UserError("{} exists but holds no .mat files; move it away and rerun".format(cars_dir))
        digests = unpack.extract_cars(target, cars_dir)
        manifest.record(data_dir, {"cars/" + name: digest for name, digest in digests.items()})
        os.unlink(target)
    return downloaded


def _check_published_size(remote, data_dir):
    """A file in place that is the download itself must have the published size (catches truncated copies)."""
    if remote.unpack or remote.size is None:
        return
    path = os.path.join(data_dir, remote.path)
    if os.path.getsize(path) != remote.size:
        raise UserError("{} holds {} bytes but the published file has {}; delete it and rerun dtl_download".format(
            path, os.path.getsize(path), remote.size))


def verify_files(files, data_dir, log):
    """Re-hashes the files in place; a digest that differs from the published or recorded one is a UserError.

    Files without a published or recorded digest get their first digest recorded.
    """
    recorded = manifest.read(data_dir)
    first_digests = {}
    for remote in files:
        for relative in final_paths(remote, data_dir):
            digest = manifest.sha256_of(os.path.join(data_dir, relative))
            expected = remote.sha256 if relative == remote.path and remote.sha256 else recorded.get(relative)
            if expected is None:
                first_digests[relative] = digest
            elif digest != expected:
                raise UserError("SHA-256 mismatch for {}: expected {}, got {}; delete it and rerun dtl_download "
                                "to fetch it again".format(os.path.join(data_dir, relative), expected, digest))
            log("{}: verified {}".format(remote.key, relative) if expected else
                "{}: recorded the SHA-256 of {}".format(remote.key, relative))
    if first_digests:
        manifest.record(data_dir, first_digests)


def _build_cache(name, data_dir):
    """Converts the data set's files into its compact cache now, so the first training job need not."""
    from dlib_torch.data.ground_truth import cars3d
    from dlib_torch.data.ground_truth import dsprites
    from dlib_torch.data.ground_truth import mpi3d
    from dlib_torch.data.ground_truth import norb
    from dlib_torch.data.ground_truth import shapes3d
    if "dsprites" in sources.DATASET_FILES[name]:
        dsprites.ensure_cache(data_dir, name)
    elif name == "smallnorb":
        norb.ensure_cache(data_dir)
    elif name == "cars3d":
        cars3d.ensure_cache(data_dir)
    elif name in mpi3d.MODES:
        mpi3d.ensure_cache(name, data_dir)
    elif name == "shapes3d":
        shapes3d.ensure_cache(data_dir)
