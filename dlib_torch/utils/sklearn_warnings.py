"""scikit-learn's ConvergenceWarnings, counted and summarised once per metric instead of one per fit.

The reference's metrics fit with the reference's iteration limits, so some fits stop before converging; the
scores are what the reference computes, and the hundreds of identical warnings only bury the log. Within
`counted(name)` every ConvergenceWarning is counted (also those raised in the worker processes of parallel
fits, which `call_counting` counts there and `unpack` reports here) and one line sums them up at the end.
Other warnings pass through unchanged.
"""
import contextlib
import warnings

from absl import logging

_active = []  # the counters of the open `counted` blocks, innermost last


class Counter:
    """How many ConvergenceWarnings a block saw, and the first message."""

    def __init__(self):
        self.count = 0
        self.first_message = None

    def add(self, count, message):
        self.count += count
        if self.first_message is None and message:
            self.first_message = " ".join(str(message).split())


def _convergence_warning():
    from sklearn.exceptions import ConvergenceWarning
    return ConvergenceWarning


@contextlib.contextmanager
def counted(name, log=logging.warning):
    """Counts the ConvergenceWarnings of the block; at its end `log` gets one line naming `name`."""
    convergence_warning = _convergence_warning()
    counter = Counter()
    with warnings.catch_warnings():
        previous_show = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, convergence_warning):
                counter.add(1, message)
            else:
                previous_show(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        warnings.simplefilter("always", convergence_warning)
        _active.append(counter)
        try:
            yield counter
        finally:
            _active.pop()
    if counter.count:
        log("%s: scikit-learn reported %d ConvergenceWarning%s (first: %s); the scores are computed as the "
            "reference computes them", name, counter.count, "" if counter.count == 1 else "s", counter.first_message)


def call_counting(function, arguments):
    """`function(*arguments)` with its ConvergenceWarnings counted: returns (output, count, first message).
    Module level, so that it runs in joblib's worker processes."""
    convergence_warning = _convergence_warning()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", convergence_warning)
        output = function(*arguments)
    count, first = 0, None
    for warning in caught:
        if issubclass(warning.category, convergence_warning):
            count += 1
            first = first or str(warning.message)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    return output, count, first


def unpack(counted_outputs):
    """The outputs of `call_counting` calls; their warnings go to the innermost `counted` block (else are
    raised again, once per call)."""
    outputs = []
    for output, count, first in counted_outputs:
        outputs.append(output)
        if count:
            if _active:
                _active[-1].add(count, first)
            else:
                warnings.warn(first, _convergence_warning())
    return outputs
