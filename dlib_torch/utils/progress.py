"""Progress of the slow parts of a stage (metric sampling and fits, encoding, GIF rendering).

On a terminal a tqdm bar; otherwise (a SLURM log, a pipe) a log line when the work starts, one every
`LOG_EVERY_SECONDS` while it runs, and one when it ends with its duration, so a log never goes silent for
minutes. `DTL_PROGRESS=bar|lines` forces one or the other.
"""
import contextlib
import os
import sys
import time

from absl import logging

LOG_EVERY_SECONDS = 20.0
PROGRESS_ENV = "DTL_PROGRESS"
_prefixes = []  # what the stage is doing (e.g. the metric's name), prepended to every description


@contextlib.contextmanager
def task(name):
    """Within the block, progress descriptions start with `name: ` (e.g. the metric being evaluated)."""
    _prefixes.append(name)
    try:
        yield
    finally:
        _prefixes.pop()


def use_bar():
    """True for a tqdm bar (stderr is a terminal, or DTL_PROGRESS=bar), False for log lines."""
    forced = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if forced in ("bar", "lines"):
        return forced == "bar"
    return sys.stderr.isatty()


class Progress:
    """`with Progress("mig: sampling", total=10000, unit="points") as progress: ... progress.update(n)`."""

    def __init__(self, description, total=None, unit="it", log_every_seconds=LOG_EVERY_SECONDS):
        self.description = ": ".join(_prefixes + [description])
        self.total = total
        self.unit = unit
        self.log_every_seconds = log_every_seconds
        self.count = 0
        self._bar = None
        self._start = self._last_log = time.monotonic()
        if use_bar():
            import tqdm
            self._bar = tqdm.tqdm(total=total, desc=self.description, unit=unit, dynamic_ncols=True, leave=False)
        else:
            logging.info("%s: started%s", self.description, "" if total is None else " ({} {})".format(total, unit))

    def update(self, n=1):
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last_log >= self.log_every_seconds:
            self._last_log = now
            logging.info("%s: %s %s after %.0f s%s", self.description, self._done_text(), self.unit,
                         now - self._start, self._eta_text(now))

    def close(self):
        elapsed = time.monotonic() - self._start
        if self._bar is not None:
            self._bar.close()
        logging.info("%s: %s %s in %.1f s", self.description, self._done_text(), self.unit, elapsed)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is None:
            self.close()
        elif self._bar is not None:
            self._bar.close()

    def _done_text(self):
        return str(self.count) if self.total is None else "{}/{}".format(self.count, self.total)

    def _eta_text(self, now):
        if not self.total or not self.count:
            return ""
        remaining = (now - self._start) * (self.total - self.count) / self.count
        return ", about {:.0f} s left".format(remaining)


def iterate(items, description, total=None, unit="it"):
    """Yields the items of an iterable, reporting progress over them."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    with Progress(description, total, unit) as progress:
        for item in items:
            yield item
            progress.update(1)
