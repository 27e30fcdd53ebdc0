"""What every command-line stage shares: absl flags for gin, `--help`, one-line errors for bad input, and a
closing line saying where the results are and how long the run took."""
import os
import re
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


HELP_ARGUMENTS = ("--help", "-help", "-h", "-?", "--helpshort", "-helpshort")


def check_files_exist(paths, what="gin config file"):
    """Refuses missing files before anything heavy is imported (gin's own check comes after torch)."""
    for path in paths:
        if not os.path.isfile(path):
            raise ConfigError("{} {} does not exist".format(what, path))


def run_main(main, name):
    """Runs an absl main; a UserError becomes `name: error: <message>` on stderr and exit status 2.

    A preempted stage (SIGTERM/SIGUSR1) has saved its state; it exits with Preempted.EXIT_CODE (75), as does a
    stage whose output directory another run holds (unless --wait_for_lock, defined here for every stage).
    `--help` prints the stage's module docstring (its examples) and its own flags. When `main` returns a
    string (e.g. "results in output/model/results"), the run ends with the line `name: <string> (<duration>)`.
    """
    start = time.monotonic()
    allocator.keep_freed_memory()
    if "wait_for_lock" not in FLAGS:
        flags.DEFINE_boolean("wait_for_lock", False, "Wait for another run that holds the output directory's lock, "
                             "instead of exiting with status 75.")
    if _asks_for_help(sys.argv[1:]):
        sys.stdout.write(stage_help(main, name))
        sys.stdout.flush()
        sys.exit(0)

    def guarded(argv):
        try:
            output_dirs.set_wait_for_lock(FLAGS.wait_for_lock)
            summary = main(argv)
            if not isinstance(summary, str):
                return summary  # absl's meaning: an exit status (None: 0)
            print("{}: {} ({})".format(name, summary, format_duration(time.monotonic() - start)), flush=True)
            return None
        except output_dirs.OutputDirectoryLocked as e:
            sys.stderr.write("{}: busy: {}\n".format(name, user_message(e)))
            sys.stderr.flush()
            sys.exit(output_dirs.OutputDirectoryLocked.EXIT_CODE)
        except Preempted as e:
            sys.stderr.write("{}: preempted: {}\n".format(name, user_message(e)))
            sys.stderr.flush()
            sys.exit(Preempted.EXIT_CODE)
        except UserError as e:
            sys.stderr.write("{}: error: {}\n".format(name, user_message(e)))
            sys.stderr.flush()
            sys.exit(2)
    app.run(guarded)


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
