"""What every command shares: absl flags for gin, `--help`, and the one wrapper that turns every way a run can
end into an exit status and at most one line (DESIGN §8):
  0    done (then a closing line saying where the results are and how long the run took);
  2    bad input: a flag error, a UserError, a file system refusal (full disk, read-only, a file where a folder
       belongs, ...), a damaged record too deeply nested to read: `<command>: error: <one line>`;
  75   preempted (SIGTERM, SIGUSR1: state saved, rerun to continue) or the output is in use by another run;
  130  interrupted by Ctrl-C (SIGINT).
A new command that calls `run_main` inherits all of it."""
import errno
import os
import re
import signal
import sys
import textwrap
import time

from absl import app
from absl import flags

from dlib_torch.utils import allocator
from dlib_torch.utils import output_dirs
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import Preempted
from dlib_torch.utils.errors import UserError

FLAGS = flags.FLAGS


def define_gin_flags():
    """Defines the repeatable `--gin_config` and `--gin_bindings` flags of the reference stages."""
    flags.DEFINE_multi_string("gin_config", [], "Gin config files to parse (repeatable).")
    flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings, e.g. \"vae.beta = 4\" (repeatable).")


def define_required_directories(**helps):
    """Required string flags naming directories, e.g. `model_dir="Directory of the trained model."`."""
    for name, text in helps.items():
        flags.DEFINE_string(name, None, text)
        flags.mark_flag_as_required(name)


HELP_ARGUMENTS = ("--help", "-help", "-h", "-?", "--helpshort", "-helpshort")


def check_files_exist(paths, what="gin config file"):
    """Refuses missing files before anything heavy is imported (gin's own check comes after torch)."""
    for path in paths:
        if not os.path.isfile(path):
            raise ConfigError("{} {} does not exist".format(what, path))


EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
PREEMPTION_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)
# File system errors that are the user's to fix (space, permissions, a path of the wrong type): one line, exit 2.
USER_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR,
               errno.EEXIST, errno.ENAMETOOLONG, errno.EFBIG, errno.ENOENT, errno.ELOOP}


def run_main(main, name):
    """Runs an absl main under the command wrapper (see the module docstring).

    `--help` prints the stage's module docstring (its examples) and its own flags. When `main` returns a
    string (e.g. "results in output/model/results"), the run ends with the line `name: <string> (<duration>)`.
    SIGTERM/SIGUSR1 raise Preempted wherever the command is (training catches them first to checkpoint);
    `--wait_for_lock` is defined here for every command.
    """
    start = time.monotonic()
    _preemption_raises()
    allocator.keep_freed_memory()
    if "wait_for_lock" not in FLAGS:
        flags.DEFINE_boolean("wait_for_lock", False, "Wait for another run that holds the output directory's lock, "
                             "instead of exiting with status 75.")
    if _asks_for_help(sys.argv[1:]):
        sys.stdout.write(stage_help(main, name))
        sys.stdout.flush()
        sys.exit(0)

    def guarded(argv):
        with _failures_as_exit_statuses(name):
            _preemption_raises()
            output_dirs.set_wait_for_lock(FLAGS.wait_for_lock)
            summary = main(argv)
            _finished()
            if not isinstance(summary, str):
                return summary  # absl's meaning: an exit status (None: 0)
            print("{}: {} ({})".format(name, summary, format_duration(time.monotonic() - start)), flush=True)
            return None

    def parse_flags(argv):
        with _failures_as_exit_statuses(name):
            try:
                return FLAGS(argv)
            except flags.Error as e:
                raise UserError("{}; see {} --help".format(" ".join(str(e).split()), name)) from None

    with _failures_as_exit_statuses(name):  # a Ctrl-C or SIGTERM before absl takes over
        _preemption_raises()
        app.run(guarded, flags_parser=parse_flags)


def _preemption_raises():
    """SIGTERM/SIGUSR1 raise Preempted and Ctrl-C KeyboardInterrupt (the main thread only; training installs its
    own handlers inside, which checkpoint first)."""
    def handler(signum, frame):
        del frame
        raise Preempted("received {}; rerun the same command to continue".format(signal.Signals(signum).name))
    for signum in PREEMPTION_SIGNALS:
        signal.signal(signum, handler)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # a background job's ignored Ctrl-C stays ignored
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _finished():
    """The work is done and recorded: a signal from now on (while the process exits) is ignored, not a failure."""
    for signum in PREEMPTION_SIGNALS + (signal.SIGINT,):
        signal.signal(signum, signal.SIG_IGN)


class _failures_as_exit_statuses:  # pylint: disable=invalid-name
    """Context manager: the end of a run as an exit status and one line on stderr (module docstring)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, exc_type, error, traceback):
        if exc_type is None or issubclass(exc_type, SystemExit):
            return False
        error = _cause(error)
        exc_type = type(error)
        if issubclass(exc_type, output_dirs.OutputDirectoryLocked):
            self._exit("busy", error, output_dirs.OutputDirectoryLocked.EXIT_CODE)
        if issubclass(exc_type, Preempted):
            self._exit("preempted", error, Preempted.EXIT_CODE)
        if issubclass(exc_type, KeyboardInterrupt):
            self._exit("interrupted", "stopped by Ctrl-C; rerun the same command to continue", EXIT_INTERRUPTED)
        if issubclass(exc_type, UserError):
            self._exit("error", error, EXIT_BAD_INPUT)
        if issubclass(exc_type, OSError) and error.errno in USER_ERRNOS:
            self._exit("error", os_error_message(error), EXIT_BAD_INPUT)
        if issubclass(exc_type, RecursionError):
            self._exit("error", "an input is nested too deeply to be read (a damaged or hostile file?)",
                       EXIT_BAD_INPUT)
        return False  # a bug: the traceback is worth seeing

    def _exit(self, label, error, status):
        try:
            sys.stderr.write("{}: {}: {}\n".format(self.name, label, user_message(error)))
            sys.stderr.flush()
        finally:
            sys.exit(status)


def _cause(error):
    """The error that decides the exit status: gin re-raises an error of a configurable as a copy without its
    `errno` (the original is its context), and an import interrupted by Ctrl-C or a signal raises an ImportError
    whose context is the interruption."""
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        context = error.__context__ or error.__cause__
        if context is None:
            return error
        if isinstance(context, (KeyboardInterrupt, Preempted, output_dirs.OutputDirectoryLocked)) or (
                isinstance(error, OSError) and error.errno is None and isinstance(context, OSError)):
            error = context
            continue
        return error
    return error


def os_error_message(error):
    """An OSError as one line naming the file and what to do."""
    what = error.strerror or str(error)
    path = error.filename if error.filename is not None else "a file"
    fixes = {errno.ENOSPC: "free some space (or choose another output directory), then run the same command again",
             errno.EDQUOT: "free some of your quota, then run the same command again",
             errno.EROFS: "the file system is read-only; choose a writable path",
             errno.EACCES: "fix its permissions or choose another path",
             errno.EPERM: "fix its permissions or choose another path",
             errno.ENOENT: "check the path"}
    return "{} ({}); {}".format(path, what, fixes.get(error.errno, "choose another path"))


def user_message(error):
    """The error's message on one line, without the call-site notes that gin appends."""
    text = re.sub(r"\s*In call to configurable '[^']*' \(<[^>]*>\)", "", str(error))
    return " ".join(text.split())


def format_duration(seconds):
    """'4.2 s', '3 min 05 s' or '2 h 03 min'."""
    if seconds < 60:
        return "{:.1f} s".format(seconds)
    if seconds < 3600:
        return "{} min {:02d} s".format(int(seconds // 60), int(seconds % 60))
    return "{} h {:02d} min".format(int(seconds // 3600), int(seconds % 3600 // 60))


def _asks_for_help(arguments):
    for argument in arguments:
        if argument == "--":
            return False
        if argument in HELP_ARGUMENTS:
            return True
    return False


def stage_help(main, name):
    """The text of `name --help`: the stage's module docstring, then its own flags with their docs and
    defaults (the shared gin and lock flags last); absl's many global flags only under --helpfull."""
    module_name = getattr(main, "__module__", "__main__")
    module = sys.modules.get(module_name)
    doc = (getattr(module, "__doc__", None) or "").strip()
    lines = ["USAGE: {} [flags]".format(name), ""]
    if doc:
        lines += [doc, ""]
    by_module = FLAGS.flags_by_module_dict()
    own = by_module.get(module_name) or by_module.get(sys.argv[0], [])  # `python -m`: absl files them there
    shared = by_module.get(__name__, [])
    for title, flag_list in (("Flags", own), ("Shared flags", shared)):
        if not flag_list:
            continue
        lines.append(title + ":")
        for flag in sorted(flag_list, key=lambda f: f.name):
            lines.append(_describe_flag(flag))
        lines.append("")
    lines.append("Try --helpfull for absl's flags as well (logging, verbosity, ...).")
    return "\n".join(lines) + "\n"


def _describe_flag(flag):
    """'  --name: help (default: ...)' wrapped at 100 columns, as absl's flag listing."""
    help_text = " ".join((flag.help or "").split())
    help_text = re.sub(r";\s*repeat this option to specify a list of values$", "", help_text)
    text = "--{}: {}".format(flag.name, help_text)
    if flag.flag_type().startswith("multi") and "repeatable" not in text:
        text += " (repeatable)"
    if any("must have a value other than None" in str(getattr(v, "message", "")) for v in flag.validators):
        text += " (required)"
    elif flag.default is not None and flag.default != [] and not flag.boolean:
        text += " (default: {!r})".format(flag.default)
    elif flag.boolean:
        text += " (default: {})".format("on" if flag.default else "off")
    return textwrap.fill(text, width=100, initial_indent="  ", subsequent_indent="    ")
