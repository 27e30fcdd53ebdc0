"""Errors meant for the user: the command-line stages print them as one line and exit non-zero."""


class UserError(Exception):
    """Bad input that the user can fix; the message names the problem and the fix."""


class MissingDataError(UserError, FileNotFoundError):
    """A data file is missing; the message names the file and the `dtl_download` command that fetches it."""


class ConfigError(UserError, ValueError):
    """A malformed gin file or binding, an unknown configurable, or an invalid parameter value."""


class Preempted(Exception):
    """Raised when SIGTERM/SIGUSR1 asked a stage to stop: its state is saved and a rerun resumes it.

    The command-line stages exit with `EXIT_CODE` (75, EX_TEMPFAIL), which a SLURM `RequeueExit=75`
    setting can requeue automatically.
    """

    EXIT_CODE = 75
