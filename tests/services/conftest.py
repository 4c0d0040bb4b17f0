"""Fixtures for the service-layer tests: the examples, loaded, and a private ``BAAS_HOME``."""

from __future__ import annotations

from pathlib import Path

import pytest

import topology

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TWO_ORGS = EXAMPLES / "two-orgs.yaml"
MINIMAL = EXAMPLES / "minimal.yaml"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty ``BAAS_HOME`` (the services' default crypto folder lives under it)."""
    path = tmp_path / "baas-home"
    monkeypatch.setenv("BAAS_HOME", str(path))
    return path


@pytest.fixture
def two_orgs() -> topology.LoadedTopology:
    """examples/two-orgs.yaml (no warnings)."""
    return topology.load(TWO_ORGS)


@pytest.fixture
def minimal() -> topology.LoadedTopology:
    """examples/minimal.yaml (one warning: a single etcdraft consenter)."""
    loaded = topology.load(MINIMAL)
    assert loaded.warnings
    return loaded
