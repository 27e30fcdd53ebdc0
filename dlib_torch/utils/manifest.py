"""The list of what a command wrote in a directory: the only files and folders it may ever remove (DESIGN §8).

`<dir>/.dtl_manifest.jsonl` holds one JSON event per line, appended as the command writes:
  {"header": {"step": "evaluation", "kind": "evaluation"}}   first line: which step's work this is
  {"dir": "results"}                                         a folder the command created
  {"writing": "results/x.json", "temp": "results/.dtl_tmp.x.json.k3j2"}   before a file is written
  {"file": "results/x.json", "size": 123, "sha256": "..."}   once the file is complete
  {"log": "scalars.jsonl"}                                   a file appended to while it runs (sealed by "file")
  {"removed": "results/x.json"}                              after the command removed one of its entries
The last event of a path wins. A file counts as the command's own while its size and SHA-256 are those recorded;
a user's file, or one of the command's files that the user changed since, is never removed or replaced.
Temporary files carry the prefix `.dtl_tmp.` and are listed before they are created, so a rerun removes exactly
the ones an interrupted run left. Appends are not synced: after a crash a file may lack its entry, which makes it
the user's (kept), never the reverse.

The writers (`atomic.atomic_path`, `atomic.makedirs`) record into the manifest of the innermost directory a
running command has claimed (`activate`); nothing is recorded elsewhere.
"""
import hashlib
import json
import os
import threading

from dlib_torch.utils.errors import UserError

MANIFEST_FILE = ".dtl_manifest.jsonl"
TEMP_PREFIX = ".dtl_tmp."
_COMPACT_TEMP = TEMP_PREFIX + "manifest"

_active = {}  # realpath of a claimed directory -> its Manifest, for the writers of this process
_active_lock = threading.Lock()


def file_sha256(path):
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Manifest:
    """The entries of one directory's manifest: {relative path: event}, replayed from its file."""

    def __init__(self, directory, header, entries):
        self.directory = directory
        self.header = header
        self.entries = entries
        self.path = os.path.join(directory, MANIFEST_FILE)

    # --- reading and creating -------------------------------------------------------------------------------

    @classmethod
    def load(cls, directory):
        """The directory's manifest, or None if it has none; a damaged one is a one-line UserError."""
        path = os.path.join(directory, MANIFEST_FILE)
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as e:
            raise _damaged(path, getattr(e, "strerror", None) or str(e)) from None
        header, entries = None, {}
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                if not isinstance(event, dict):
                    raise ValueError("not an object")
            except (ValueError, RecursionError):
                # A line torn by a killed process or a full disk: its event is lost, so its file counts as the
                # user's (kept), never the reverse.
                continue
            if "header" in event and isinstance(event["header"], dict):
                header = event["header"]
                continue
            relative = _event_path(event)
            temp = event.get("temp", relative) if "writing" in event else relative
            if relative is None or not _is_inside(relative) or not isinstance(temp, str) or not _is_inside(temp) \
                    or ("writing" in event and not _is_temporary_of(temp, relative)):
                raise _damaged(path, "line {} names a path outside the directory or not its own".format(number + 1))
            if "removed" in event:
                entries.pop(relative, None)
            else:
                entries[relative] = event
        if header is None:
            raise _damaged(path, "it has no header line")
        return cls(directory, header, entries)

    @classmethod
    def create(cls, directory, step, kind):
        """A new manifest (its header only) for `step`'s work of `kind` in `directory`."""
        manifest = cls(directory, {"step": step, "kind": kind}, {})
        manifest._rewrite()
        return manifest

    @property
    def step(self):
        return self.header.get("step")

    @property
    def kind(self):
        return self.header.get("kind")

    def relative(self, path):
        """`path` relative to the manifest's directory, '/'-separated."""
        return os.path.relpath(os.path.abspath(path), os.path.abspath(self.directory)).replace(os.sep, "/")

    def full(self, relative):
        return os.path.join(self.directory, *relative.split("/"))

    def _through_link(self, relative):
        """Whether a folder on the way to `relative` is a symbolic link (or not a folder): what lies there is not
        where the command wrote it, so it is never removed or replaced as the command's."""
        root = os.path.realpath(self.directory)
        parent = os.path.realpath(os.path.dirname(self.full(relative)))
        expected = os.path.normpath(os.path.join(root, *relative.split("/")[:-1]))
        return parent != expected

    # --- what is whose -------------------------------------------------------------------------------------

    def state(self, relative):
        """'absent', 'own' (the command's, unchanged), 'changed' (the command's, edited since) or 'foreign'."""
        path = self.full(relative)
        if self._through_link(relative):
            return "changed" if relative in self.entries else "foreign"
        if not os.path.lexists(path):
            return "absent"
        event = self.entries.get(relative)
        if event is None:
            return "foreign"
        if "dir" in event:
            return "own" if os.path.isdir(path) and not os.path.islink(path) else "changed"
        if "file" in event:
            if os.path.islink(path) or not os.path.isfile(path):
                return "changed"
            if os.path.getsize(path) != event.get("size") or file_sha256(path) != event.get("sha256"):
                return "changed"
            return "own"
        return "own"  # a log, or a file whose write was interrupted (its temporary file is listed)

    def changed(self):
        """The command's files that were edited since it wrote them (they are kept, never replaced)."""
        return sorted(relative for relative in self.entries if self.state(relative) == "changed")

    def check_replaceable(self, path):
        """Raises a one-line UserError if writing `path` would replace a file the command does not own."""
        relative = self.relative(path)
        state = self.state(relative)
        if state == "foreign":
            raise UserError("{} was not written by this step (a file of yours?); nothing was replaced: move it "
                            "out of {}, then run the same command again".format(path, self.directory))
        if state == "changed":
            raise UserError("{} has changed since this step wrote it; nothing was replaced: move it away (or "
                            "restore it), then run the same command again".format(path))

    def adopt(self, path):
        """Counts an existing file as the command's own (the user asked to replace it, e.g. --overwrite)."""
        if os.path.isfile(path):
            self._append({"file": self.relative(path), "size": os.path.getsize(path),
                          "sha256": file_sha256(path)})

    # --- recording writes ----------------------------------------------------------------------------------

    def makedirs(self, directory):
        """Creates `directory` and the missing folders above it inside the manifest's directory, recording each."""
        missing = []
        current = os.path.abspath(directory)
        root = os.path.abspath(self.directory)
        while current != root and not os.path.isdir(current) and current.startswith(root + os.sep):
            missing.append(current)
            current = os.path.dirname(current)
        for folder in reversed(missing):
            self._append({"dir": self.relative(folder)})
            try:
                os.mkdir(folder)
            except FileExistsError:
                if not os.path.isdir(folder):
                    raise

    def begin_write(self, path):
        """Lists and creates the temporary file `path` is written through; returns its path."""
        directory = os.path.dirname(os.path.abspath(path))
        self.makedirs(directory)
        temp = os.path.join(directory, "{}{}.{}".format(TEMP_PREFIX, os.path.basename(path)[:200], os.urandom(4).hex()))
        self._append({"writing": self.relative(path), "temp": self.relative(temp)})
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.close(fd)
        return temp

    def finish_write(self, path):
        """Records the complete file at `path` with its size and SHA-256."""
        self._append({"file": self.relative(path), "size": os.path.getsize(path), "sha256": file_sha256(path)})

    def begin_log(self, path):
        """Lists a file the command appends to while it runs (`finish_write` seals it)."""
        self.makedirs(os.path.dirname(os.path.abspath(path)))
        relative = self.relative(path)
        if "file" in self.entries.get(relative, {}) and self.state(relative) == "changed":
            self.check_replaceable(path)
        self._append({"log": relative})

    # --- removing what the command wrote -------------------------------------------------------------------

    def remove_temporaries(self):
        """Removes the temporary files of interrupted writes (only those listed) and settles their entries."""
        for relative, event in list(self.entries.items()):
            if "writing" not in event:
                continue
            temp = self.full(event["temp"])
            if os.path.lexists(temp) and not self._through_link(event["temp"]):  # never renamed: target as before
                _unlink(temp)
                self._append({"removed": relative} if not os.path.lexists(self.full(relative)) else
                             {"log": relative})
            # else renamed into place: the target is the command's, its size unrecorded ('own' until sealed)

    def remove_owned(self):
        """Removes every unchanged entry (files, then empty folders, deepest first); returns what was kept.

        Call `changed()` first where an edited file must stop the command: this keeps it silently.
        """
        self.remove_temporaries()
        kept = []
        files = [r for r, e in self.entries.items() if "dir" not in e]
        folders = sorted((r for r, e in self.entries.items() if "dir" in e), key=lambda r: r.count("/"),
                         reverse=True)
        for relative in sorted(files):
            state = self.state(relative)
            if state == "own":
                _unlink(self.full(relative))
            if state in ("own", "absent"):
                self._append({"removed": relative})
            else:
                kept.append(relative)
        for relative in folders:
            path = self.full(relative)
            if os.path.isdir(path) and not os.path.islink(path):
                try:
                    os.rmdir(path)
                except OSError:  # holds a file of the user's (or one the command kept): stays
                    kept.append(relative)
                    continue
            self._append({"removed": relative})
        return kept

    def compact(self):
        """Rewrites the manifest with one line per entry (after a completed step); without space for that, the
        appended manifest, which says the same, stays."""
        fresh = Manifest.load(self.directory)  # the file, with what other processes appended
        if fresh is not None:
            self.entries = fresh.entries
        try:
            self._rewrite()
        except OSError:
            _unlink_quietly(os.path.join(self.directory, _COMPACT_TEMP))

    # --- the file itself -----------------------------------------------------------------------------------

    def _append(self, event):
        relative = _event_path(event)
        if "removed" in event:
            self.entries.pop(relative, None)
        else:
            self.entries[relative] = event
        line = json.dumps(event, sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line  # after a torn line (a full disk): the event stands on its own line
            _write_all(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def _rewrite(self):
        lines = [json.dumps({"header": self.header}, sort_keys=True)]
        lines += [json.dumps(self.entries[r], sort_keys=True) for r in sorted(self.entries)]
        temp = os.path.join(self.directory, _COMPACT_TEMP)
        _unlink_quietly(temp)  # the tool's own name: a leftover (or anything else there) is replaced, never followed
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(temp, self.path)


def _event_path(event):
    for key in ("dir", "file", "writing", "log", "removed"):
        if isinstance(event.get(key), str):
            return event[key]
    return None


def _is_inside(relative):
    parts = relative.split("/")
    return bool(relative) and not relative.startswith("/") and ".." not in parts and "" not in parts


def _is_temporary_of(temp, relative):
    """Whether `temp` is a temporary file of the tool's beside `relative`."""
    return temp.rsplit("/", 1)[:-1] == relative.rsplit("/", 1)[:-1] and \
        temp.rsplit("/", 1)[-1].startswith(TEMP_PREFIX)


def _damaged(path, reason):
    return UserError("the manifest {} is damaged ({}); nothing was deleted: restore it, or move the directory "
                     "away and run the command again".format(path, reason))


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise UserError("cannot remove {} ({}), a file this step wrote before; fix the folder's permissions, then "
                        "run the same command again".format(path, e.strerror)) from None


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_all(fd, data):
    while data:
        written = os.write(fd, data)
        data = data[written:]


# --- the directories this process is writing ------------------------------------------------------------------

def activate(manifest):
    """Makes the writers of this process record files under `manifest.directory` into `manifest`."""
    with _active_lock:
        _active[os.path.realpath(manifest.directory)] = manifest


def deactivate(manifest):
    with _active_lock:
        _active.pop(os.path.realpath(manifest.directory), None)


def active_for(path):
    """The manifest of the innermost claimed directory holding `path`, or None."""
    target = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    with _active_lock:
        best = None
        for directory, manifest in _active.items():
            if (target == directory or target.startswith(directory.rstrip(os.sep) + os.sep)) and (
                    best is None or len(directory) > len(best[0])):
                best = (directory, manifest)
    return best[1] if best else None
