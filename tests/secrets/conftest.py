"""Fixtures for the secret-store tests: a real OpenBao dev server and test bundles."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# `tests.support` must be importable whichever way pytest is started; harmless once the
# project sets `pythonpath = ["."]` for pytest.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.openbao import BaoNotFound, OpenBao, find_bao, openbao_server  # noqa: E402


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBao]:
    """A real OpenBao dev server for the whole session: ``(addr, root_token)``.

    Skips (with the reason) only when the ``bao`` binary is absent; fails if it will not start.
    """
    try:
        find_bao()
    except BaoNotFound as exc:
        pytest.skip(str(exc))
    with openbao_server() as server:
        yield server


@pytest.fixture
def network() -> str:
    """A network name unique to the test, so tests sharing one server never collide."""
    return f"net{uuid.uuid4().hex[:8]}"
