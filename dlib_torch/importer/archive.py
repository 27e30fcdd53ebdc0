"""One published disentanglement_lib model, read from its ZIP or from the directory it unpacks to.

A model's output directory as `dlib_reproduce` wrote it (reference §2.1) holds `model/tfhub/` (TF-Hub module,
variables in `variables/variables.{index,data-*}`), `model/tf_checkpoint/` (`model.ckpt-<step>.*`),
`model/results/`, `visualizations/`, `postprocessed/<name>/results/` and `metrics/<name>/<metric>/results/`.
The archive may wrap it in folders (e.g. `<n>/`); its root is the folder that holds `model/results/gin/train.gin`.
"""
import os
import re
import zipfile

from dlib_torch.importer import tf_bundle
from dlib_torch.utils.errors import UserError

TRAIN_GIN = "model/results/gin/train.gin"
MODEL_TRAIN_GIN = "results/gin/train.gin"


class Archive:
    """The files of one published model: `files()` (paths relative to its root), `read(path)` -> bytes."""

    def __init__(self, source):
        self.source = source
        if os.path.isdir(source):
            self._zip = None
            names = []
            for root, _, files in os.walk(source):
                names += [os.path.relpath(os.path.join(root, name), source).replace(os.sep, "/") for name in files]
        elif os.path.isfile(source):
            self._zip = _open_zip(source)
            names = [info.filename for info in self._zip.infolist() if not info.is_dir()]
        else:
            raise UserError("{} does not exist; pass a disentanglement_lib model ZIP or the directory it unpacks "
                            "to".format(source))
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
        self._names = {prefix + name[len(root):]: name for name in names if name.startswith(root)}

    def files(self, under=""):
        """The archive's files below `under` (relative to the model's root), sorted."""
        return sorted(name for name in self._names if name.startswith(under))

    def exists(self, path):
        return path in self._names

    def read(self, path):
        if path not in self._names:
            raise UserError("{} holds no {}".format(self.source, path))
        if self._zip is None:
            with open(os.path.join(self.source, self._names[path]), "rb") as f:
                return f.read()
        try:
            return self._zip.read(self._names[path])
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
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
