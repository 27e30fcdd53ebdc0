"""Tests of dlib_torch/training/training_log.py: the scalars file, log lines and resume truncation."""
import json
import logging as logging_module

from dlib_torch.training import training_log


def _records(model_dir):
    with open(model_dir / training_log.SCALARS_FILE) as f:
        return [json.loads(line) for line in f]


def test_reports_append_json_lines_and_log_lines_without_a_terminal(tmp_path, caplog):
    caplog.set_level(logging_module.INFO)
    log = training_log.TrainingLog(str(tmp_path), training_steps=200, start_step=0, use_bar=False)
    log.advance(100)
    log.report(100, {"loss": 2.5, "kl_loss": 0.5})
    log.report(200, {"loss": 1.5, "kl_loss": 0.25})
    log.close()
    records = _records(tmp_path)
    assert [(r["global_step"], r["loss"], r["kl_loss"]) for r in records] == [(100, 2.5, 0.5), (200, 1.5, 0.25)]
    assert all(r["steps_per_second"] > 0 for r in records)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("step 100/200: loss = 2.5, kl_loss = 0.5, ") for m in messages)


def test_bar_on_a_terminal_shows_the_loss(tmp_path, capsys):
    log = training_log.TrainingLog(str(tmp_path), training_steps=10, start_step=0, use_bar=True)
    log.advance(5)
    log.report(5, {"loss": 3.25})
    log.close()
    assert "loss=3.25" in capsys.readouterr().err


def test_truncate_drops_records_after_the_checkpoint_and_torn_lines(tmp_path):
    path = tmp_path / training_log.SCALARS_FILE
    path.write_text('{"global_step": 10, "loss": 1}\n{"global_step": 20, "loss": 2}\n{"global_step": 30, "lo')
    training_log.truncate_scalars(str(tmp_path), 20)
    assert [r["global_step"] for r in _records(tmp_path)] == [10, 20]
    training_log.truncate_scalars(str(tmp_path / "missing"), 0)  # nothing to truncate
