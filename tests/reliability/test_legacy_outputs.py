"""Outputs of an older dlib_torch (before manifests and checkpoint digests, tests/fixtures/legacy_training/, made by
its make_fixture.py with commit f6d6895): an unfinished training resumes from its checkpoint and ends as an
uninterrupted run does; a user's file beside it survives."""
import os
import shutil

import torch

from reliability_tools import TESTS, run

FIXTURE = os.path.join(TESTS, "fixtures", "legacy_training")
ARGS = ["--gin_config=" + os.path.join(FIXTURE, "train.gin"),
        "--gin_bindings=training_runtime.checkpoint_every_steps = 100",
        "--gin_bindings=training_runtime.num_threads = 1"]


def _weights(model_dir):
    module = torch.jit.load(os.path.join(model_dir, "exported", "gaussian_encoder.pt"))
    return {name: value.clone() for name, value in module.state_dict().items()}


def test_an_older_versions_unfinished_training_resumes_bit_for_bit(tmp_path):
    legacy = tmp_path / "legacy"
    shutil.copytree(os.path.join(FIXTURE, "model"), legacy)
    (legacy / "NOTES.md").write_text("mine")
    resumed = run("dtl_train", "--model_dir=" + str(legacy), *ARGS)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming" in resumed.stderr and "at global step 101" in resumed.stderr
    assert (legacy / "NOTES.md").read_text() == "mine"
    fresh = tmp_path / "fresh"
    assert run("dtl_train", "--model_dir=" + str(fresh), *ARGS).returncode == 0
    ours, theirs = _weights(str(legacy)), _weights(str(fresh))
    assert ours.keys() == theirs.keys()
    for name in ours:
        assert torch.equal(ours[name], theirs[name]), name
    # Its files are now listed: an --overwrite removes them and keeps the user's.
    assert run("dtl_train", "--model_dir=" + str(legacy), *ARGS, "--overwrite").returncode == 0
    assert (legacy / "NOTES.md").read_text() == "mine"
