"""Shared fixtures. Tests import the installed dlib_torch (pytest runs with --import-mode=importlib)."""
import os

# pytest runs two workers on two cores; one thread per process (and per subprocess, which inherits the
# environment) avoids oversubscribing the cores, which slows torch and BLAS several-fold.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_data_root(tmp_path, monkeypatch):
    """Every test gets its own empty data root, so no test reads or writes real data by accident."""
    monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(tmp_path / "data"))
    yield
