"""Shared fixtures. Tests import the installed dlib_torch (pytest runs with --import-mode=importlib)."""
import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_data_root(tmp_path, monkeypatch):
    """Every test gets its own empty data root, so no test reads or writes real data by accident."""
    monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(tmp_path / "data"))
    yield
