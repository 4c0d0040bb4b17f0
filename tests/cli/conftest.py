"""Run the CLI in-process (``baas.cli.app.main``) and capture what it prints."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from baas.cli.app import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TWO_ORGS: dict[str, Any] = yaml.safe_load((EXAMPLES / "two-orgs.yaml").read_text())


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``cli("validate", "f.yaml")`` → :class:`Result` (exit status, stdout, stderr)."""

    def _run(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return _run


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh deep copy of examples/two-orgs.yaml."""
    return copy.deepcopy(TWO_ORGS)


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a document (dict or text) as ``tmp_path/<name>`` next to an existing
    ``chaincode/asset-transfer`` folder; returns the path."""
    (tmp_path / "chaincode" / "asset-transfer").mkdir(parents=True, exist_ok=True)

    def _write(content: dict[str, Any] | str, name: str = "topology.yaml") -> Path:
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
