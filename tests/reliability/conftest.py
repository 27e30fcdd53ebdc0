"""Fixtures of the reliability tests; their helpers live in reliability_tools.py (importable from the tests)."""
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from reliability_tools import MEAN_GIN, MIG_GIN, TRAIN_GIN, run  # noqa: E402


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory):
    """A finished tiny model (the test study's training config), its representation, and one metric.

    Returns {"model": dir, "mean": postprocessed dir, "mig": evaluation dir}. Copy before changing anything.
    """
    root = tmp_path_factory.mktemp("reliability")
    model, mean, mig = root / "model", root / "postprocessed" / "mean", root / "metrics" / "mean" / "mig"
    for completed in (run("dtl_train", "--model_dir=" + str(model), "--gin_config=" + TRAIN_GIN),
                      run("dtl_postprocess", "--model_dir=" + str(model), "--output_dir=" + str(mean),
                          "--gin_config=" + MEAN_GIN),
                      run("dtl_evaluate", "--input_dir=" + str(mean), "--output_dir=" + str(mig),
                          "--gin_config=" + MIG_GIN)):
        assert completed.returncode == 0, completed.stderr
    return {"root": str(root), "model": str(model), "mean": str(mean), "mig": str(mig)}


@pytest.fixture
def model_copy(trained_model, tmp_path):
    """A private copy of the session's trained pipeline (model, postprocessed/mean, metrics/mean/mig)."""
    root = tmp_path / "copy"
    shutil.copytree(trained_model["root"], root)
    return {"root": str(root), "model": str(root / "model"), "mean": str(root / "postprocessed" / "mean"),
            "mig": str(root / "metrics" / "mean" / "mig")}
