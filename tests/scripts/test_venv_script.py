"""``scripts/venv.sh`` (what ``make demo`` runs first) as a newcomer meets it: the editable
install prints nothing but its own one-line header, and a broken project still fails loudly.

Each test runs the real script, unchanged, against a two-file project in a temporary directory
(a fresh venv, pip upgraded, an editable install through setuptools' build backend), so it needs
the package index or ``PIP_FIND_LINKS`` for pip and setuptools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "venv.sh"

PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "newcomer"
version = "0.1.0"
{dependencies}

[project.optional-dependencies]
dev = []

[tool.setuptools.packages.find]
include = ["newcomer*"]
"""


def _project(root: Path, dependencies: str = "dependencies = []") -> Path:
    (root / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, root / "scripts" / "venv.sh")
    (root / "pyproject.toml").write_text(PYPROJECT.format(dependencies=dependencies))
    (root / "newcomer").mkdir()
    (root / "newcomer" / "__init__.py").write_text("")
    return root


def _run(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(root / "scripts" / "venv.sh")],
        env={
            **{k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"},
            "PYTHON": sys.executable,
        },
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_editable_install_prints_only_the_header(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    result = _run(root)
    assert result.returncode == 0, result.stderr
    printed = (result.stdout + result.stderr).strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("==> setting up .venv"), printed
    imported = subprocess.run(
        [str(root / ".venv" / "bin" / "python"), "-c", "import newcomer"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr


@pytest.mark.slow
def test_a_broken_project_still_fails_with_its_error(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", dependencies='dependencies = "not-a-list"')
    result = _run(root)
    assert result.returncode != 0
    assert "dependencies" in result.stderr, result.stderr
    assert not (root / ".venv" / ".pyproject.sha256").exists()
