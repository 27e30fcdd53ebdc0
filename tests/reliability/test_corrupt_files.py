"""Damaged inputs are named in one line with the way out, never silently replaced or scored: truncated and
empty checkpoints, truncated or bit-flipped exported modules (even ones that still load), corrupt records."""
import os

import pytest
import torch

from reliability_tools import MEAN_GIN, MIG_GIN, TRAIN_GIN, one_line_error, run, snapshot

RESUMABLE = ["--gin_bindings=model.training_steps = 10", "--gin_bindings=training_runtime.checkpoint_every_steps = 5"]


def _unfinished_model(tmp_path):
    """A model directory holding a checkpoint of an unfinished run (its records removed, its marker kept)."""
    model_dir = tmp_path / "model"
    completed = run("dtl_train", "--model_dir=" + str(model_dir), "--gin_config=" + TRAIN_GIN, *RESUMABLE)
    assert completed.returncode == 0, completed.stderr
    for sub in ("results", "exported"):
        for root, _, files in os.walk(model_dir / sub, topdown=False):
            for name in files:
                os.remove(os.path.join(root, name))
            os.rmdir(root)
    (model_dir / ".dtl_unfinished").write_text('{"step": "train"}')
    return model_dir


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage"])
def test_a_damaged_checkpoint_is_named_and_kept(tmp_path, damage):
    model_dir = _unfinished_model(tmp_path)
    path = model_dir / "checkpoints" / "latest.pt"
    data = path.read_bytes()
    path.write_bytes({"truncate": data[:len(data) // 2], "empty": b"", "garbage": b"not a checkpoint" * 10}[damage])
    before = snapshot(str(model_dir))
    completed = run("dtl_train", "--model_dir=" + str(model_dir), "--gin_config=" + TRAIN_GIN, *RESUMABLE)
    assert completed.returncode == 2, completed.stderr
    line = one_line_error(completed, "dtl_train")
    assert "checkpoint {} is damaged".format(path) in line
    assert "delete it to restart training from step 0, or restore it" in line
    assert snapshot(str(model_dir)) == before  # never a silent restart that throws the work away


def test_a_truncated_export_is_refused(model_copy, tmp_path):
    encoder = os.path.join(model_copy["model"], "exported", "gaussian_encoder.pt")
    with open(encoder, "rb") as f:
        data = f.read()
    with open(encoder, "wb") as f:
        f.write(data[:len(data) // 3])
    completed = run("dtl_postprocess", "--model_dir=" + model_copy["model"], "--output_dir=" + str(tmp_path / "p"),
                    "--gin_config=" + MEAN_GIN)
    assert completed.returncode == 2, completed.stderr
    line = one_line_error(completed, "dtl_postprocess")
    assert "exported module {} is damaged".format(encoder) in line
    assert not (tmp_path / "p" / "results").exists()


def _flip_a_weight_byte(path):
    """Changes one byte of a stored tensor, so that the module still loads but computes other numbers."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    module = torch.jit.load(path)
    weight = next(iter(module.state_dict().values())).numpy().tobytes()
    offset = bytes(data).find(weight[:16])
    assert offset > 0
    data[offset + 2] ^= 0x40
    with open(path, "wb") as f:
        f.write(bytes(data))


def test_a_module_that_still_loads_but_is_damaged_is_not_scored(model_copy, tmp_path):
    representation = os.path.join(model_copy["mean"], "exported", "representation.pt")
    _flip_a_weight_byte(representation)
    torch.jit.load(representation)  # it still loads: only the recorded digest can tell
    completed = run("dtl_evaluate", "--input_dir=" + model_copy["mean"], "--output_dir=" + str(tmp_path / "e"),
                    "--gin_config=" + MIG_GIN)
    assert completed.returncode == 2, completed.stderr
    line = one_line_error(completed, "dtl_evaluate")
    assert "exported module {} is damaged: its SHA-256 is".format(representation) in line
    assert not (tmp_path / "e" / "results").exists()


def test_a_corrupt_results_record_is_named(model_copy, tmp_path):
    record = os.path.join(model_copy["model"], "results", "json", "train_results.json")
    with open(record, "w") as f:
        f.write('{"loss": 1.0, "elbo"')
    completed = run("dtl_postprocess", "--model_dir=" + model_copy["model"], "--output_dir=" + str(tmp_path / "p"),
                    "--gin_config=" + MEAN_GIN)
    assert completed.returncode == 2, completed.stderr
    assert "results record {} is damaged".format(record) in one_line_error(completed, "dtl_postprocess")
