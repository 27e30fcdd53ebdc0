"""The documentation: the MkDocs site builds with `mkdocs build --strict` (no broken link, anchor or nav entry),
a new page finds its place in the nav by itself, and the README links every command to its existing page."""
import ast
import os
import re
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("mkdocs")  # the `docs` and `test` extras install it

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, "README.md")


def build(config_file, site_dir):
    """Runs `mkdocs build --strict` on `config_file` into `site_dir`; returns the finished process."""
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config_file),
                           "--site-dir", str(site_dir)], cwd=os.path.dirname(str(config_file)),
                          capture_output=True, text=True, timeout=300)


def commands():
    """The console commands of setup.py's STAGES, read without running setup.py."""
    tree = ast.parse(open(os.path.join(REPO, "setup.py"), encoding="utf-8").read())
    stages = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                  and getattr(node.targets[0], "id", None) == "STAGES")
    return [key.value for key in stages.keys]


def test_site_builds_strict(tmp_path):
    completed = build(os.path.join(REPO, "mkdocs.yml"), tmp_path / "site")
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    assert (tmp_path / "site" / "index.html").exists()
    for command in commands():
        assert (tmp_path / "site" / "commands" / command / "index.html").exists(), command


def test_a_page_missing_from_the_nav_joins_its_folders_section(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(os.path.join(REPO, "docs"), copy / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(os.path.join(REPO, "mkdocs.yml"), copy / "mkdocs.yml")
    shutil.copy(README, copy / "README.md")
    shutil.copytree(os.path.join(REPO, "configs", "studies"), copy / "configs" / "studies",
                    ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.gin"))
    (copy / "docs" / "metrics" / "zz_new_metric.md").write_text("# A new metric\n\nSee [the metrics](index.md).\n")
    (copy / "docs" / "newfolder").mkdir()
    (copy / "docs" / "newfolder" / "page.md").write_text("# A page in a new folder\n")
    completed = build(copy / "mkdocs.yml", tmp_path / "site")
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    # In the nav, after the metrics pages and before the next section; the new folder is a section of its own.
    assert home.index("metrics/on-arrays/") < home.index("metrics/zz_new_metric/") < home.index("data/")
    assert "A new metric" in home and "newfolder/page/" in home and "Newfolder" in home

    (copy / "docs" / "metrics" / "broken.md").write_text("# Broken\n\nSee [nothing](no_such_page.md).\n")
    completed = build(copy / "mkdocs.yml", tmp_path / "site2")
    assert completed.returncode != 0 and "no_such_page.md" in completed.stdout + completed.stderr


def test_readme_links_every_command_to_its_page_and_every_docs_link_exists():
    text = open(README, encoding="utf-8").read()
    for command in commands():
        assert re.search(r"\[`{}`\]\(docs/commands/{}\.md\)".format(command, command), text), command
    links = re.findall(r"\]\((docs/[^)#\s]+)(?:#[^)\s]*)?\)", text)
    assert len(links) > len(commands())
    for link in links:
        assert os.path.isfile(os.path.join(REPO, link)), link


def test_readme_is_short_and_keeps_the_commands_ci_runs():
    text = open(README, encoding="utf-8").read()
    assert len(text.splitlines()) <= 210
    for marker in ("<!-- main-command -->", "<!-- test-command -->"):
        assert re.search(re.escape(marker) + r"\n```sh\n[^\n]+\n```", text), marker
