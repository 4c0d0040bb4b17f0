"""Fixtures for the PKI tests (helpers live in ``pkitest``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pkitest import sample_orgs

from pki.spec import OrgSpec


@pytest.fixture
def orgs() -> list[OrgSpec]:
    return sample_orgs()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The crypto root (``<tmp>/crypto``), not created."""
    return tmp_path / "crypto"
