"""Shared fixtures for the topology tests: the two-orgs example as a mutable document, and
helpers that write a document next to its chaincode folder and load it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import topology
from topology.errors import Diagnostic

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TWO_ORGS: dict[str, Any] = yaml.safe_load((EXAMPLES / "two-orgs.yaml").read_text())

Doc = dict[str, Any]


@pytest.fixture
def doc() -> Doc:
    """A fresh deep copy of examples/two-orgs.yaml (orgs: [0] ordererorg with 3 orderers,
    [1] org1, [2] org2; one channel ``mychannel``; one chaincode ``basic``)."""
    return copy.deepcopy(TWO_ORGS)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[Doc | str], Path]:
    """Write a document (dict or raw text) to ``tmp_path/topology.yaml`` next to an existing
    ``chaincode/asset-transfer`` folder; returns the file path."""
    (tmp_path / "chaincode" / "asset-transfer").mkdir(parents=True, exist_ok=True)

    def _write(content: Doc | str, name: str = "topology.yaml") -> Path:
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def load(write: Callable[[Doc | str], Path]) -> Callable[[Doc | str], topology.LoadedTopology]:
    """Write then :func:`topology.load` a document (raises :class:`topology.TopologyError`)."""

    def _load(content: Doc | str) -> topology.LoadedTopology:
        return topology.load(write(content))

    return _load


@pytest.fixture
def errors(write: Callable[[Doc | str], Path]) -> Callable[[Doc | str], list[Diagnostic]]:
    """Write and load a document that must be refused; returns its error diagnostics."""

    def _errors(content: Doc | str) -> list[Diagnostic]:
        with pytest.raises(topology.TopologyError) as info:
            topology.load(write(content))
        found = info.value.errors
        assert found, "a TopologyError must carry at least one error"
        return found

    return _errors
