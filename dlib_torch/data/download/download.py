"""dtl_download's work: fetch the files of the requested data sets, unpack them, build their caches.

Files land in the reference's layout under the data root (what the loaders read). A file already in place is
never downloaded again nor touched (unless `force=True`, which replaces it); its size is checked against the
published or recorded one. `verify=True` re-hashes the files in place against the published digests or, where
none is published, against the manifest that recorded them on their first download, and checks that such a
file loads: a digest is recorded only for a file that does.
"""
import os

from dlib_torch.data.download import fetch
from dlib_torch.data.download import manifest
from dlib_torch.data.download import readable
from dlib_torch.data.download import sources
from dlib_torch.data.download import unpack
from dlib_torch.data.ground_truth import util
from dlib_torch.utils import file_lock
from dlib_torch.utils.errors import UserError


def download(dataset_names, data_dir, url_overrides=None, sha256_overrides=None, mirror=None, verify=False,
             retries=5, retry_wait=1.0, progress=True, environ=None, log=None, force=False):
    """Fetches, unpacks and converts the files of `dataset_names` ("all" or a comma-separated string or list).

    `force=True` downloads every file again, replacing the files in place (e.g. a damaged one).
    Returns the number of files downloaded.
    """
    log = log or (lambda message: print(message, flush=True))
    names = sources.resolve_dataset_names(dataset_names)
    files = sources.remote_files(names, url_overrides, sha256_overrides, mirror, environ)
    dataset_of = _dataset_of_each_file(names)
    os.makedirs(data_dir, exist_ok=True)
    downloaded = 0
    for remote in files:
        # One dtl_download at a time puts files into a data root; a second one waits, then finds them in place.
        with file_lock.locked(os.path.join(data_dir, ".dtl_download_root.lock")):
            downloaded += _ensure_file(remote, data_dir, dataset_of[remote.key], retries, retry_wait, progress, log,
                                       force)
    if verify:
        verify_files(files, data_dir, log, dataset_of)
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


def _dataset_of_each_file(names):
    """{file key: the first of the data sets `names` that reads it}, for the `--dataset=` of messages."""
    dataset_of = {}
    for name in names:
        for key in sources.DATASET_FILES[name]:
            dataset_of.setdefault(key, name)
    return dataset_of


def _replace_command(dataset_name, data_dir):
    return "`dtl_download --dataset={} --data_dir={} --force`".format(dataset_name, data_dir)


def _ensure_file(remote, data_dir, dataset_name, retries, retry_wait, progress, log, force=False):
    """Puts `remote`'s files in place unless they are already (or `force`); returns 1 if it downloaded, else 0."""
    if _in_place(remote, data_dir) and not force:
        _check_sizes(remote, data_dir, dataset_name)
        log("{}: in place, not downloaded again".format(remote.key))
        return 0
    target = os.path.join(data_dir, remote.path)
    downloaded = 0
    if force or not os.path.exists(target):
        log("{}: downloading {} to {}".format(remote.key, remote.url, target))
        digest = fetch.fetch(remote.url, target, remote.size, remote.sha256, retries, retry_wait, progress, log=log)
        if not remote.unpack and remote.sha256 is None:
            _require_loads(remote, target, dataset_name, data_dir)
        manifest.record(data_dir, {remote.path: digest}, {remote.path: os.path.getsize(target)})
        downloaded = 1
    else:  # a download whose unpacking was interrupted: only if it is the one recorded (or published)
        expected = manifest.read(data_dir).get(remote.path) or remote.sha256
        if expected is None or manifest.sha256_of(target) != expected:
            raise UserError("{} is in place but is not a file dtl_download fetched and recorded; move it away, or "
                            "replace it with {}".format(target, _replace_command(dataset_name, data_dir)))
    if remote.unpack == "gunzip":
        final = final_paths(remote, data_dir)[0]
        final_path = os.path.join(data_dir, final)
        digest = unpack.gunzip(target, final_path, dataset_name)
        manifest.record(data_dir, {final: digest}, {final: os.path.getsize(final_path)}, forget=[remote.path])
        os.unlink(target)
    elif remote.unpack == "cars":
        cars_dir = os.path.join(data_dir, "cars")
        if os.path.isdir(cars_dir) and not os.listdir(cars_dir):
            os.rmdir(cars_dir)
        elif os.path.exists(cars_dir) and not force:
            raise UserError("{} exists but holds no .mat files; move it away and rerun".format(cars_dir))
        digests = unpack.extract_cars(target, cars_dir)
        manifest.record(data_dir, {"cars/" + name: digest for name, digest in digests.items()},
                        {"cars/" + name: os.path.getsize(os.path.join(cars_dir, name)) for name in digests},
                        forget=[remote.path])
        os.unlink(target)
    return downloaded


def _require_loads(remote, path, dataset_name, data_dir):
    """A fresh download without a published digest must load (its headers, quickly: a host that serves an error
    page or another file); one that does not is deleted, never recorded."""
    try:
        readable.check(path, dataset_name, data_dir, thorough=False)
    except util.DamagedDataError as e:
        os.unlink(path)
        cause = e.__cause__
        raise fetch.DownloadError("the file {} served does not load as {} ({}: {}); it was deleted: check the "
                                  "URL (--url, --mirror)".format(remote.url, remote.path, type(cause).__name__,
                                                                 " ".join(str(cause).split()))) from None


def _check_sizes(remote, data_dir, dataset_name):
    """Files in place must have the published or recorded size (catches truncated copies, cheaply)."""
    recorded = manifest.read_sizes(data_dir)
    for relative in final_paths(remote, data_dir):
        path = os.path.join(data_dir, relative)
        if relative == remote.path and remote.size is not None:
            expected, source = remote.size, "the published file has"
        elif relative in recorded:
            expected, source = recorded[relative], "its download had"
        else:
            continue
        if os.path.getsize(path) != expected:
            raise UserError("{} holds {} bytes but {} {}; the file is damaged or incomplete: replace it with {}"
                            .format(path, os.path.getsize(path), source, expected,
                                    _replace_command(dataset_name, data_dir)))


def verify_files(files, data_dir, log, dataset_of=None):
    """Checks the files in place: size and SHA-256 against the published or recorded ones, and that a file
    without a published digest loads. A difference is a UserError naming the file and `--force`.

    A file without a recorded digest that loads gets its digest and size recorded; one that does not, never.
    """
    dataset_of = dataset_of or _dataset_of_each_file(sources.DATASET_FILES)
    recorded, recorded_sizes = manifest.read(data_dir), manifest.read_sizes(data_dir)
    first_digests, first_sizes = {}, {}
    try:
        for remote in files:
            dataset_name = dataset_of[remote.key]
            _check_sizes(remote, data_dir, dataset_name)
            for relative in final_paths(remote, data_dir):
                path = os.path.join(data_dir, relative)
                published = relative == remote.path
                digest = manifest.sha256_of(path)
                expected = remote.sha256 if published and remote.sha256 else recorded.get(relative)
                if expected is not None and digest != expected:
                    raise UserError("SHA-256 mismatch for {}: expected {}, got {}; replace it with {}".format(
                        path, expected, digest, _replace_command(dataset_name, data_dir)))
                if not (published and remote.sha256):
                    readable.check(path, dataset_name, data_dir)
                if expected is None or relative not in recorded_sizes:
                    first_digests[relative] = digest
                    first_sizes[relative] = os.path.getsize(path)
                log("{}: verified {}".format(remote.key, relative) if expected else
                    "{}: recorded the SHA-256 of {}".format(remote.key, relative))
    finally:
        if first_digests:
            manifest.record(data_dir, first_digests, first_sizes)


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
