"""A regular (non-editable) install ships every file of the shipped studies."""
import importlib.util
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def study_files(root):
    """Relative paths of the files under a studies folder, compiled files aside."""
    found = set()
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d != "__pycache__"]
        found.update(os.path.relpath(os.path.join(directory, f), root) for f in files if not f.endswith(".pyc"))
    return found


def test_non_editable_install_ships_every_study_file(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ["setup.py", "README.md", "LICENSE"]:
        shutil.copy(os.path.join(REPO, name), source / name)
    for name in ["dlib_torch", "configs"]:
        shutil.copytree(os.path.join(REPO, name), source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(tmp_path / "target"),
               str(source)]
    if importlib.util.find_spec("setuptools") is not None:
        command.insert(4, "--no-build-isolation")
    subprocess.run(command, check=True, timeout=300)
    installed = study_files(tmp_path / "target" / "dlib_torch" / "studies")
    expected = study_files(os.path.join(REPO, "configs", "studies"))
    assert "quickstart/sweep.py" in expected and "unsupervised_study_v1/metric_configs/mig.gin" in expected
    assert installed == expected

