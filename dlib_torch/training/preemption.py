"""Catching the signals a cluster sends before it preempts or times out a job (SLURM: SIGTERM, SIGUSR1).

Inside `PreemptionSignals()`, those signals only set a flag; the training loop looks at it between steps,
writes a checkpoint and raises `Preempted`. Outside the main thread (where Python cannot install handlers)
the signals keep their usual effect.
"""
import signal
import threading

SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class PreemptionSignals:
    """Context manager: records SIGTERM/SIGUSR1 instead of dying; `received` names the first one caught."""

    def __init__(self):
        self.received = None
        self._previous = {}

    def _handle(self, signum, frame):
        del frame
        if self.received is None:
            self.received = signal.Signals(signum).name

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}
        return False
