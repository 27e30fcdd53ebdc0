"""Where each data set's files come from: one table of URLs, published sizes and SHA-256 digests.

Hosts move (the MPI3D bucket did). A user overrides one file's URL with `--url=KEY=URL` or the environment
variable `DTL_DOWNLOAD_URL_<KEY>` (key in upper case), or fetches every file from a mirror that serves them
under their original names with `--mirror=BASE_URL` or `DTL_DOWNLOAD_MIRROR`. A moved file is still checked
against its published digest; `--sha256=KEY=DIGEST` (or `KEY=` for none) says the host serves another version.
"""
import dataclasses
import os
from typing import Optional

from dlib_torch.utils.errors import UserError

NORB_URL = "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/"
MPI3D_URL = "https://storage.googleapis.com/mpi3d_disentanglement_dataset/data/"


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One file to download, and where it lands under the data root."""
    key: str                      # names the file in --url / --sha256 overrides and in messages
    url: str
    path: str                     # where the verified download lands (relative to the data root)
    size: Optional[int] = None    # published size in bytes, if known
    sha256: Optional[str] = None  # published SHA-256, if known
    unpack: Optional[str] = None  # "gunzip": becomes `path` without .gz; "cars": its data/cars/*.mat -> cars/


def _norb(split, kind, size, sha256):
    grid = "5x46789x9x18x6x2x96x96-training" if split == "training" else "5x01235x9x18x6x2x96x96-testing"
    name = "smallnorb-{}-{}.mat.gz".format(grid, kind)
    return RemoteFile("smallnorb_{}_{}".format(split, kind), NORB_URL + name, "small_norb/" + name, size, sha256,
                      unpack="gunzip")


FILES = [
    RemoteFile("dsprites", "https://github.com/deepmind/dsprites-dataset/raw/master/"
               "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz",
               "dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"),
    RemoteFile("scream", "https://upload.wikimedia.org/wikipedia/commons/f/f4/The_Scream.jpg", "scream/scream.jpg"),
    _norb("training", "dat", 131896188, "5ffd6272a07d32695ee1082a26a41a93a37aab8c28da047f8c34ed348d214873"),
    _norb("training", "cat", 348, "2784e542c1922060691090952b6cd6278879a216c90f81476f0f00256d42cdaa"),
    _norb("training", "info", 71052, "de7eb932ebe7a4ee16217fead60660d0eb3d23632c2f4d1c51f88c501c17bf32"),
    _norb("testing", "dat", 130799817, "cf7104eed3e51174d2f65b66d1e5878b9da233b886f161b0d88f4510ba2c7474"),
    _norb("testing", "cat", 347, "ecaf6d5bb8c3bc5eab9cf0258f6d2198dd474e016e374836fc097f2e5ff509ff"),
    _norb("testing", "info", 10428, "16adf314226327ee006d1a44db8cfef52773c06c829951d5653a9f6f310248a2"),
    RemoteFile("cars3d", "http://www.scottreed.info/files/nips2015-analogy-data.tar.gz",
               "nips2015-analogy-data.tar.gz", unpack="cars"),
    RemoteFile("mpi3d_toy", MPI3D_URL + "mpi3d_toy.npz", "mpi3d_toy/mpi3d_toy.npz"),
    RemoteFile("mpi3d_realistic", MPI3D_URL + "mpi3d_realistic.npz", "mpi3d_realistic/mpi3d_realistic.npz"),
    RemoteFile("mpi3d_real", MPI3D_URL + "mpi3d_real.npz", "mpi3d_real/mpi3d_real.npz"),
    RemoteFile("shapes3d", "https://storage.googleapis.com/3d-shapes/3dshapes.h5", "3dshapes/3dshapes.h5",
               267573662, "0a0f6ed98baff276a50f3a081a7434d788da63cb135a98189b2a5b5769be1785"),
]
FILES_BY_KEY = {f.key: f for f in FILES}

_DSPRITES = ["dsprites"]
_NORB = [f.key for f in FILES if f.key.startswith("smallnorb_")]

# Data set name (as `dataset.name`) -> keys of the files it reads.
DATASET_FILES = {
    "dsprites_full": _DSPRITES,
    "dsprites_noshape": _DSPRITES,
    "color_dsprites": _DSPRITES,
    "noisy_dsprites": _DSPRITES,
    "abstract_dsprites": _DSPRITES,
    "scream_dsprites": _DSPRITES + ["scream"],
    "scream_dsprites_procedural": ["scream"],
    "smallnorb": _NORB,
    "cars3d": ["cars3d"],
    "mpi3d_toy": ["mpi3d_toy"],
    "mpi3d_realistic": ["mpi3d_realistic"],
    "mpi3d_real": ["mpi3d_real"],
    "shapes3d": ["shapes3d"],
}


def resolve_dataset_names(names):
    """Data set names from a comma-separated list ('all' for every one); unknown names are a UserError."""
    requested = [n.strip() for n in names.split(",") if n.strip()] if isinstance(names, str) else list(names)
    if not requested:
        raise UserError("no data set given; valid names: all, {}".format(", ".join(sorted(DATASET_FILES))))
    resolved = []
    for name in requested:
        expanded = sorted(DATASET_FILES) if name == "all" else [name]
        for n in expanded:
            if n not in DATASET_FILES:
                raise UserError("unknown dataset '{}'; valid names: all, {}".format(
                    n, ", ".join(sorted(DATASET_FILES))))
            if n not in resolved:
                resolved.append(n)
    return resolved


def remote_files(dataset_names, url_overrides=None, sha256_overrides=None, mirror=None, environ=None):
    """The files the data sets need, once each, with the user's URL and digest overrides applied.

    Precedence for a URL: `url_overrides[key]`, then $DTL_DOWNLOAD_URL_<KEY>, then the mirror (argument, then
    $DTL_DOWNLOAD_MIRROR) + the file's original name, then the table.
    """
    environ = os.environ if environ is None else environ
    url_overrides = dict(url_overrides or {})
    sha256_overrides = dict(sha256_overrides or {})
    for key in list(url_overrides) + list(sha256_overrides):
        if key not in FILES_BY_KEY:
            raise UserError("unknown file key '{}' in an override; valid keys: {}".format(
                key, ", ".join(FILES_BY_KEY)))
    mirror = mirror or environ.get("DTL_DOWNLOAD_MIRROR")
    keys = []
    for name in dataset_names:
        keys += [k for k in DATASET_FILES[name] if k not in keys]
    files = []
    for key in keys:
        remote = FILES_BY_KEY[key]
        url = url_overrides.get(key) or environ.get("DTL_DOWNLOAD_URL_" + key.upper())
        if not url and mirror:
            url = mirror.rstrip("/") + "/" + remote.url.rsplit("/", 1)[1]
        if url:
            remote = dataclasses.replace(remote, url=url)
        if key in sha256_overrides:  # another version of the file: its published size no longer applies
            remote = dataclasses.replace(remote, sha256=sha256_overrides[key].lower() or None, size=None)
        files.append(remote)
    return files


def parse_assignments(values, what):
    """{KEY: VALUE} from a list of 'KEY=VALUE' strings (the --url and --sha256 flags)."""
    result = {}
    for value in values or []:
        key, sep, assigned = value.partition("=")
        if not sep or not key:
            raise UserError("--{} expects KEY=VALUE, got '{}'".format(what, value))
        result[key.strip()] = assigned.strip()
    return result
