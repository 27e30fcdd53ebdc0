"""A regular (non-editable) install ships every file the package needs, and the tests run against it in CI."""
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def study_files(root):
    """Relative paths of the files under a studies folder, compiled files aside."""
    found = set()
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d != "__pycache__"]
        found.update(os.path.relpath(os.path.join(directory, f), root) for f in files if not f.endswith(".pyc"))
    return found


def package_data_files(root):
    """Relative paths of the non-Python files under a package folder."""
    return {path for path in study_files(root) if not path.endswith(".py")}


def install_copy(tmp_path):
    """Installs a copy of the source tree (not editable, no dependencies) into <tmp>/target; returns it."""
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
    return tmp_path / "target"


def test_non_editable_install_ships_every_study_file(tmp_path):
    target = install_copy(tmp_path)
    installed = study_files(target / "dlib_torch" / "studies")
    expected = study_files(os.path.join(REPO, "configs", "studies"))
    assert "quickstart/sweep.py" in expected and "unsupervised_study_v1/metric_configs/mig.gin" in expected
    assert installed == expected



def test_non_editable_install_ships_every_package_data_file_and_the_example_runs(tmp_path):
    target = install_copy(tmp_path)
    expected = package_data_files(os.path.join(REPO, "dlib_torch"))
    assert "examples/model.gin" in expected
    assert package_data_files(target / "dlib_torch") - {p for p in package_data_files(target / "dlib_torch")
                                                       if p.startswith("studies/")} == expected
    # The example from the installed copy, run from a folder without the source tree on sys.path.
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = dict(os.environ, PYTHONPATH=str(target), OMP_NUM_THREADS="1")
    completed = subprocess.run([sys.executable, "-m", "dlib_torch.examples.example", str(run_dir / "out")],
                               cwd=run_dir, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.count("mean representation of 8 images has shape (8, 10)") == 2
    where = subprocess.run([sys.executable, "-c", "import dlib_torch; print(dlib_torch.__file__)"], cwd=run_dir,
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert where == str(target / "dlib_torch" / "__init__.py")


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="only CI must test the installed package")
def test_ci_tests_the_installed_package_not_the_source_tree():
    import dlib_torch
    location = os.path.realpath(dlib_torch.__file__)
    assert "site-packages" in location.split(os.sep), location
    assert not location.startswith(os.path.realpath(REPO) + os.sep), location


def test_every_source_folder_is_a_package():
    """A folder of modules without __init__.py imports in an editable install but is left out of a regular one."""
    missing = []
    for directory, subdirs, files in os.walk(os.path.join(REPO, "dlib_torch")):
        subdirs[:] = [d for d in subdirs if d != "__pycache__"]
        if any(f.endswith(".py") for f in files) and "__init__.py" not in files:
            missing.append(os.path.relpath(directory, REPO))
    assert not missing, "folders of modules without __init__.py: {}".format(missing)
