"""Pictures a metric asks for: the metric hands over its numbers, the evaluation stage draws them.

A metric never imports visualize/ (DESIGN §9). Where the reference drew into `artifact_dir` (unified_scores'
matrices), the metric calls `hand_over` with what the picture needs; dlib_torch/evaluation/evaluate.py collects
whatever is handed over while the metric runs (`collected`) and gives it to visualize/ afterwards. Outside a
`collected` block nothing is kept: a metric called directly computes its numbers only.
"""
import contextlib
import contextvars
import dataclasses
from typing import List, Optional

import numpy as np


@dataclasses.dataclass(frozen=True)
class FactorCodeMatrix:
    """A matrix [num_codes, num_factors] relating codes to factors, drawn as `<directory>/<name>.png` (heat
    squares), `<name>_pr.png` (precision and recall over thresholds) and `<name>_dendrogram.png` (merges)."""
    directory: str
    name: str
    matrix: np.ndarray
    factor_names: Optional[List[str]] = None


_collector = contextvars.ContextVar("metric_artifacts", default=None)


@contextlib.contextmanager
def collected():
    """Within the block, what metrics hand over is appended to the yielded list (this thread's only)."""
    handed = []
    token = _collector.set(handed)
    try:
        yield handed
    finally:
        _collector.reset(token)


def hand_over(artifact):
    """Gives `artifact` to the innermost `collected` block of this thread, if any."""
    handed = _collector.get()
    if handed is not None:
        handed.append(artifact)
