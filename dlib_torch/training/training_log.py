"""What a training run reports while it runs.

- On a terminal, a tqdm bar with the loss and steps/s; otherwise (a SLURM log) one line per report.
- Every report is appended to `<model_dir>/scalars.jsonl`, one JSON object per line:
  {"global_step", "steps_per_second", "wall_time", and the model's scalars averaged since the last report}.
- TensorBoard event files in `<model_dir>/tensorboard/` when the `tensorboard` package is installed.
- In a log, a progress line at least every `progress.LOG_EVERY_SECONDS` (20 s) between reports, however slow
  the steps (a loaded machine), so a SLURM log never goes silent for minutes.
"""
import json
import os
import time

from absl import logging
import tqdm

from dlib_torch.utils import atomic
from dlib_torch.utils import progress

SCALARS_FILE = "scalars.jsonl"
TENSORBOARD_DIR = "tensorboard"


def _summary_writer(log_dir):
    """A TensorBoard SummaryWriter, or None when tensorboard is not installed (it is optional)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    atomic.makedirs(log_dir)
    writer = SummaryWriter(log_dir)
    atomic.register_log(_event_file(writer))
    return writer


def _event_file(writer):
    """The path of the event file a SummaryWriter appends to."""
    event_writer = writer._get_file_writer().event_writer  # pylint: disable=protected-access
    return event_writer._file_name  # pylint: disable=protected-access


def truncate_scalars(model_dir, last_global_step):
    """Drops records after `last_global_step` (a resumed run redoes those steps) and any torn last line."""
    path = os.path.join(model_dir, SCALARS_FILE)
    if not os.path.exists(path):
        return
    kept = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if not isinstance(record, dict):
                continue
            if record.get("global_step", 0) <= last_global_step:
                kept.append(json.dumps(record))
    atomic.write_text(path, "".join(line + "\n" for line in kept))


class TrainingLog:
    """Progress bar or log lines, the JSON-lines scalars file and optional TensorBoard events of one run."""

    def __init__(self, model_dir, training_steps, start_step, use_bar=None):
        self.training_steps = training_steps
        self.use_bar = progress.use_bar() if use_bar is None else use_bar
        self.bar = tqdm.tqdm(total=training_steps, initial=start_step, unit="step", dynamic_ncols=True,
                             disable=not self.use_bar)
        self.scalars_file = atomic.open_log(os.path.join(model_dir, SCALARS_FILE))
        self.writer = _summary_writer(os.path.join(model_dir, TENSORBOARD_DIR))
        self._last_time = self._last_line = time.monotonic()
        self._last_step = self._step = start_step

    def advance(self, steps):
        self.bar.update(steps)
        self._step += steps
        if not self.use_bar and time.monotonic() - self._last_line >= progress.LOG_EVERY_SECONDS:
            self._last_line = time.monotonic()
            logging.info("step %d/%d, %.2f steps/s since the last report", self._step, self.training_steps,
                         (self._step - self._last_step) / max(self._last_line - self._last_time, 1e-9))

    def report(self, global_step, scalars):
        """Writes the scalars averaged since the last report, with the speed over that stretch."""
        now = time.monotonic()
        steps_per_second = (global_step - self._last_step) / max(now - self._last_time, 1e-9)
        self._last_time, self._last_step, self._last_line = now, global_step, now
        record = {"global_step": int(global_step), "steps_per_second": steps_per_second, "wall_time": time.time()}
        record.update(scalars)
        self.scalars_file.write(json.dumps(record) + "\n")
        self.scalars_file.flush()
        if self.writer is not None:
            for name, value in scalars.items():
                self.writer.add_scalar(name, value, global_step)
            self.writer.add_scalar("steps_per_second", steps_per_second, global_step)
        if self.use_bar:
            self.bar.set_postfix(loss="{:.4g}".format(scalars.get("loss", float("nan"))))
        else:
            logging.info("step %d/%d: %s, %.1f steps/s", global_step, self.training_steps,
                         ", ".join("{} = {:.6g}".format(k, v) for k, v in scalars.items()), steps_per_second)

    def close(self):
        self.bar.close()
        self.scalars_file.close()
        atomic.seal(self.scalars_file.name)
        if self.writer is not None:
            event_file = _event_file(self.writer)
            self.writer.close()
            atomic.seal(event_file)
