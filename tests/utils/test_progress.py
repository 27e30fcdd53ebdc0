"""Tests of dlib_torch/utils/progress.py: log lines off a terminal (start, periodic, end), names of the task."""
from absl import logging

from dlib_torch.utils import progress


def test_lines_off_a_terminal(monkeypatch):
    lines = []
    monkeypatch.setattr(logging, "info", lambda message, *args: lines.append(message % args))
    monkeypatch.setenv(progress.PROGRESS_ENV, "lines")
    with progress.task("mig"):
        items = list(progress.iterate(range(3), "sampling", unit="points"))
        with progress.Progress("encoding", total=10, unit="images", log_every_seconds=0) as bar:
            bar.update(4)
    assert items == [0, 1, 2]
    assert lines[0] == "mig: sampling: started (3 points)"
    assert lines[1].startswith("mig: sampling: 3/3 points in ")
    assert lines[2] == "mig: encoding: started (10 images)"
    assert lines[3].startswith("mig: encoding: 4/10 images after 0 s, about ")
    assert lines[4].startswith("mig: encoding: 4/10 images in ")
    with progress.Progress("outside", total=None) as bar:
        bar.update()
    assert lines[-1].startswith("outside: 1 it in ")
