"""What every command-line stage shares: absl flags for gin, and one-line errors for bad input."""
import re
import sys

from absl import app
from absl import flags

from dlib_torch.utils import allocator
from dlib_torch.utils import output_dirs
from dlib_torch.utils.errors import Preempted
from dlib_torch.utils.errors import UserError

FLAGS = flags.FLAGS


def define_gin_flags():
    """Defines the repeatable `--gin_config` and `--gin_bindings` flags of the reference stages."""
    flags.DEFINE_multi_string("gin_config", [], "Gin config files to parse (repeatable).")
    flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings, e.g. \"vae.beta = 4\" (repeatable).")


def run_main(main, name):
    """Runs an absl main; a UserError becomes `name: error: <message>` on stderr and exit status 2.

    A preempted stage (SIGTERM/SIGUSR1) has saved its state; it exits with Preempted.EXIT_CODE (75), as does a
    stage whose output directory another run holds (unless --wait_for_lock, defined here for every stage).
    """
    allocator.keep_freed_memory()
    if "wait_for_lock" not in FLAGS:
        flags.DEFINE_boolean("wait_for_lock", False, "Wait for another run that holds the output directory's lock, "
                             "instead of exiting with status 75.")

    def guarded(argv):
        try:
            output_dirs.set_wait_for_lock(FLAGS.wait_for_lock)
            return main(argv)
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
