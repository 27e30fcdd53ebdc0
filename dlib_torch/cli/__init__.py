"""The command-line stages, one module per command (each `run()` is a `dtl_*` entry point).

Until a command's wrapper (common.run_main) takes over, a Ctrl-C, SIGTERM or SIGUSR1 while its modules load ends
it with one line and the wrapper's status (130, or 75), not a traceback: nothing has been written yet. Only when
the process is a `dtl_*` command, not when a program imports these modules.
"""
import os
import signal
import sys


def _stopped_while_starting(signum, frame):
    del frame
    interrupted = signum == signal.SIGINT
    sys.stderr.write("{}: {}: stopped by {} while starting; nothing was written, run the same command again\n".format(
        os.path.basename(sys.argv[0]), "interrupted" if interrupted else "preempted", signal.Signals(signum).name))
    sys.stderr.flush()
    os._exit(130 if interrupted else 75)  # pylint: disable=protected-access


if os.path.basename(sys.argv[0] if sys.argv else "").startswith("dtl_"):
    for _signum in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
        if signal.getsignal(_signum) is not signal.SIG_IGN:  # a background job's ignored Ctrl-C stays ignored
            signal.signal(_signum, _stopped_while_starting)
