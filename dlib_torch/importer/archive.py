"""One published disentanglement_lib model, read from its ZIP or from the directory it unpacks to.

A model's output directory as `dlib_reproduce` wrote it (reference §2.1) holds `model/tfhub/` (TF-Hub module,
variables in `variables/variables.{index,data-*}`), `model/tf_checkpoint/` (`model.ckpt-<step>.*`),
`model/results/`, `visualizations/`, `postprocessed/<name>/results/` and `metrics/<name>/<metric>/results/`.
The archive may wrap it in folders (e.g. `<n>/`); its root is the folder that holds `model/results/gin/train.gin`.

Archives and unpacked folders come from outside and are untrusted (DESIGN §8): before anything is read, every
member name is checked (no absolute path, no `..`, no symlink, device or other special member, no two names
that are one path once normalised), the expanded size and the expansion ratio are capped, and no symlink is
followed out of a folder. A refusal is one line naming the member.
"""
import os
import posixpath
import re
import stat
import unicodedata
import zipfile

from dlib_torch.importer import tf_bundle
from dlib_torch.utils.errors import UserError

TRAIN_GIN = "model/results/gin/train.gin"
MODEL_TRAIN_GIN = "results/gin/train.gin"
# A published model expands to a few tens of MB (its variables barely compress); a ZIP beyond these is refused.
MAX_EXPANDED_BYTES = 4 << 30
MAX_EXPANSION_RATIO = 20  # variables barely compress; records and pictures compress a few times
MAX_RECORD_BYTES = 64 << 20  # one member read into memory (records, gin files, variables)


class Archive:
    """The files of one published model: `files()` (paths relative to its root), `read(path)` -> bytes."""

    def __init__(self, source):
        self.source = source
        if os.path.isdir(source):
            self._zip = None
            names = _folder_members(source)
        elif os.path.isfile(source):
            self._zip = _open_zip(source)
            names = _zip_members(self._zip, source)
        else:
            raise UserError("{} does not exist; pass a disentanglement_lib model ZIP or the directory it unpacks "
                            "to".format(source))
        _refuse_clashes(names, source)
        members, names = names, sorted(names)
        roots = _roots(names, TRAIN_GIN)
        if not roots:  # a model directory itself, as dlib_train (or the weak/semi-supervised trainers) wrote it
            roots = [root for root in _roots(names, MODEL_TRAIN_GIN) if any(
                name.startswith((root + "tfhub/", root + "tf_checkpoint/", root + "model.ckpt-")) for name in names)]
            prefix = "model/"
        else:
            prefix = ""
        if not roots:
            raise UserError("{} holds no {}; it is not a model written by disentanglement_lib's dlib_reproduce "
                            "or dlib_train".format(source, TRAIN_GIN))
        if len(roots) > 1:
            raise UserError("{} holds {} models ({}); import one at a time".format(
                source, len(roots), ", ".join(r or "." for r in roots)))
        root = roots[0]
        self._names = {prefix + name[len(root):]: members[name] for name in names if name.startswith(root)}

    def files(self, under=""):
        """The archive's files below `under` (relative to the model's root), sorted."""
        return sorted(name for name in self._names if name.startswith(under))

    def exists(self, path):
        return path in self._names

    def read(self, path):
        """The bytes of a member (at most MAX_RECORD_BYTES: larger ones are copied with `copy_to`)."""
        if self.size(path) > MAX_RECORD_BYTES:
            raise UserError("{}: {} is {} bytes, too large to be a record of a model; the archive is damaged".format(
                self.source, path, self.size(path)))
        with self.open(path) as f:
            return self._guarded(lambda: f.read(), path)

    def size(self, path):
        """The (declared) size of a member in bytes."""
        if path not in self._names:
            raise UserError("{} holds no {}".format(self.source, path))
        if self._zip is None:
            return os.path.getsize(os.path.join(self.source, self._names[path]))
        return self._zip.getinfo(self._names[path]).file_size

    def open(self, path):
        """A binary file object reading the member."""
        if path not in self._names:
            raise UserError("{} holds no {}".format(self.source, path))
        if self._zip is None:
            return open(os.path.join(self.source, self._names[path]), "rb")
        return self._guarded(lambda: self._zip.open(self._names[path]), path)

    def copy_to(self, path, target):
        """Streams a member into the file object `target`, a block at a time."""
        with self.open(path) as f:
            self._guarded(lambda: _copy_blocks(f, target), path)

    def _guarded(self, action, path):
        try:
            return action()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as e:
            raise UserError("{} is damaged: {} cannot be read ({}); fetch the archive again".format(
                self.source, path, " ".join(str(e).split()))) from None

    def verify(self):
        """Reads every member of a ZIP against its CRC-32, so a damaged archive fails before anything is written."""
        if self._zip is None:
            return
        try:
            bad = self._zip.testzip()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise UserError("{} is damaged ({}); fetch the archive again".format(
                self.source, " ".join(str(e).split()))) from None
        if bad is not None:
            raise UserError("{} is damaged: {} fails its CRC check; fetch the archive again".format(self.source, bad))

    def variables(self, verify_checksums=True):
        """(TensorBundle, description) of the model's variables: the TF-Hub module's, else the latest checkpoint's."""
        hub_prefix = "model/tfhub/variables/variables"
        if self.exists(hub_prefix + ".index"):
            return self._bundle(hub_prefix, verify_checksums), "model/tfhub/variables"
        prefix = self._latest_checkpoint()
        return self._bundle(prefix, verify_checksums), prefix

    def _bundle(self, prefix, verify_checksums):
        directory, base = prefix.rsplit("/", 1)
        return tf_bundle.TensorBundle(base, lambda name: self.read(directory + "/" + name), verify_checksums,
                                      label="{}: {}".format(self.source, prefix))

    def _latest_checkpoint(self):
        for checkpoint_dir in ("model/tf_checkpoint/", "model/"):  # the weak/semi-supervised trainers use model/
            if self.files(checkpoint_dir + "model.ckpt-"):
                return self._latest_checkpoint_in(checkpoint_dir)
        raise UserError("{} holds neither model/tfhub/variables/variables.index nor a model/tf_checkpoint/"
                        "model.ckpt-*.index; the model's variables are missing".format(self.source))

    def _latest_checkpoint_in(self, checkpoint_dir):
        state = checkpoint_dir + "checkpoint"
        if self.exists(state):
            match = re.search(r'^model_checkpoint_path:\s*"([^"]+)"', self.read(state).decode("utf-8", "replace"),
                              re.MULTILINE)
            if match:
                prefix = checkpoint_dir + os.path.basename(match.group(1))
                if self.exists(prefix + ".index"):
                    return prefix
        steps = [(int(m.group(1)), m.group(0)[:-len(".index")]) for m in
                 (re.fullmatch(re.escape(checkpoint_dir) + r"model\.ckpt-(\d+)\.index", name) for name in self.files(
                     checkpoint_dir)) if m]
        if not steps:
            raise UserError("{} holds neither model/tfhub/variables/variables.index nor a model/tf_checkpoint/"
                            "model.ckpt-*.index; the model's variables are missing".format(self.source))
        return max(steps)[1]


def _copy_blocks(source, target, block=1 << 20):
    while True:
        data = source.read(block)
        if not data:
            return
        target.write(data)


def _zip_members(archive, source):
    """{normalised name: member name} of a ZIP's files, each name checked (module docstring), with the size caps
    applied."""
    names, seen, expanded = {}, {}, 0
    for info in archive.infolist():
        name = info.filename
        mode = (info.external_attr >> 16) & 0o177777
        if mode and stat.S_ISLNK(mode):
            raise UserError("{}: member {!r} is a symbolic link; archives from outside may hold only files and "
                            "folders, so nothing was imported".format(source, name))
        if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UserError("{}: member {!r} is a device or other special file; nothing was imported".format(
                source, name))
        normalised = _checked_name(name, source)
        if normalised in seen:
            raise UserError("{}: members {!r} and {!r} name the same path; nothing was imported".format(
                source, seen[normalised], name))
        seen[normalised] = name
        if info.is_dir():
            continue
        expanded += info.file_size
        names[normalised] = name
    archive_size = max(os.path.getsize(source), 1)
    if expanded > MAX_EXPANDED_BYTES or (expanded > (1 << 20) and expanded / archive_size > MAX_EXPANSION_RATIO):
        raise UserError("{} would expand to {:,} bytes, {:.0f} times its size; a published model expands to far "
                        "less (at most {:,} bytes, {} times), so nothing was imported".format(
                            source, expanded, expanded / archive_size, MAX_EXPANDED_BYTES, MAX_EXPANSION_RATIO))
    return names


def _refuse_clashes(names, source):
    """Refuses (one line) member names that are the tool's own (`.dtl_*`), that collide once case and Unicode form
    are folded (one file would replace the other on a case-insensitive or normalising file system), or a file
    that is also a folder of another member."""
    folded = {}
    for name in names:
        parts = name.split("/")
        if any(part.startswith(".dtl_") for part in parts):
            raise UserError("{}: member {!r} has a name dlib_torch keeps for its own files (.dtl_*); nothing was "
                            "imported".format(source, name))
        key = unicodedata.normalize("NFC", name).casefold()
        if key in folded:
            raise UserError("{}: members {!r} and {!r} name the same path on some file systems (case or Unicode "
                            "form); nothing was imported".format(source, folded[key], name))
        folded[key] = name
    folders = {"/".join(name.split("/")[:i]) for name in names for i in range(1, name.count("/") + 1)}
    for name in names:
        if name in folders:
            raise UserError("{}: member {!r} is both a file and a folder of other members; nothing was "
                            "imported".format(source, name))


def _checked_name(name, source):
    """The member name normalised; absolute names and `..` components are refused (one line)."""
    text = name.replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text) or "\0" in text:
        raise UserError("{}: member {!r} has an absolute path; nothing was imported".format(source, name))
    if ".." in text.split("/"):
        raise UserError("{}: member {!r} climbs out of the archive ('..'); nothing was imported".format(source, name))
    return posixpath.normpath(text)


def _folder_members(source):
    """{relative path: relative path} ('/'-separated) of an unpacked folder's files; a symbolic link or special
    file in it is refused, so nothing outside the folder is ever read."""
    names = {}
    for root, folders, files in os.walk(source, followlinks=False):
        for name in folders + files:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, source).replace(os.sep, "/")
            if os.path.islink(path):
                raise UserError("{}: {} is a symbolic link; an unpacked model may hold only files and folders, so "
                                "nothing was imported".format(source, relative))
            if name in files and not os.path.isfile(path):
                raise UserError("{}: {} is not a regular file; nothing was imported".format(source, relative))
            if name in files:
                names[relative] = relative
    return names


def _roots(names, marker):
    """The folders (as prefixes ending in '/', or '') whose `marker` file the archive holds."""
    return sorted(name[:-len(marker)] for name in names
                  if name.endswith(marker) and (name == marker or name[:-len(marker)].endswith("/")))


def _open_zip(path):
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise UserError("{} is not a readable ZIP (truncated or damaged download?); fetch it again".format(
            path)) from None
    except OSError as e:
        raise UserError("{} cannot be read ({})".format(path, e.strerror)) from None
