"""What a topology is and what it turns into, as services: ``validate``, ``describe_plan``,
``schema``. Read-only: nothing here writes a file or talks to a network.

(Named ``plan`` rather than ``topology``: a submodule ``baas.services.topology`` would, once
imported, replace the top-level :mod:`topology` package that ``baas/services/__init__.py``
imports under that same name.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import topology
from baas import plan as planning
from baas.plan import Plan
from baas.services.results import Outcome
from topology import Diagnostic

__all__ = ["PlanResult", "ValidationResult", "describe_plan", "schema", "validate"]

_SNAKE = re.compile(r"_([a-z0-9])")


def _camel(name: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


def _camel_keys(data: Any) -> Any:
    """``data`` (dicts, lists, scalars) with every dict key turned from snake_case to camelCase
    (``msp_id`` → ``mspId``); keys already camelCase and all values are left as they are."""
    if isinstance(data, dict):
        return {_camel(str(k)): _camel_keys(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_camel_keys(v) for v in data]
    return data


@dataclass(frozen=True)
class ValidationResult:
    """A valid topology ``file``: its network's name and size, and its ``diagnostics`` — for a
    valid file exactly its warnings (the list a :class:`topology.TopologyError` carries for an
    invalid one, so both read alike)."""

    file: Path
    network: str
    organizations: int
    nodes: int
    channels: int
    chaincodes: int
    diagnostics: tuple[Diagnostic, ...] = ()

    @classmethod
    def of(cls, loaded: topology.LoadedTopology) -> ValidationResult:
        spec = loaded.network.spec
        return cls(
            file=loaded.path,
            network=loaded.network.metadata.name,
            organizations=len(spec.organizations),
            nodes=sum(len(o.peers) + len(o.orderers) for o in spec.organizations),
            channels=len(spec.channels),
            chaincodes=len(spec.chaincodes),
            diagnostics=tuple(loaded.warnings),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "valid": True,
            "network": self.network,
            "organizations": self.organizations,
            "nodes": self.nodes,
            "channels": self.channels,
            "chaincodes": self.chaincodes,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


@dataclass(frozen=True)
class PlanResult:
    """The plan of a network (:class:`baas.plan.Plan`): organisations, nodes, namespaces,
    identities, channels and chaincodes, as ``up`` would create them."""

    plan: Plan

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = _camel_keys(self.plan.to_dict())
        return data


def validate(path: Path) -> Outcome[ValidationResult]:
    """Load and check the topology at ``path``. Warnings do not fail it (they are both the
    result's ``diagnostics`` and the outcome's ``warnings``); errors raise
    :class:`topology.TopologyError` carrying every diagnostic (a missing, empty, oversized or
    malformed file included)."""
    return validated(topology.load(path))


def validated(loaded: topology.LoadedTopology) -> Outcome[ValidationResult]:
    """The validation outcome of a topology already loaded (from a file, or from a request
    body, as the REST API does)."""
    return Outcome("ValidationResult", ValidationResult.of(loaded), loaded.warnings)


def describe_plan(loaded: topology.LoadedTopology) -> Outcome[PlanResult]:
    """What ``loaded``'s network turns into (pure: built once, nothing read or written)."""
    return Outcome("Plan", PlanResult(planning.build(loaded.network)), loaded.warnings)


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the topology format, for editors and the web UI. A
    plain document, not an :class:`Outcome`: it describes the format, not a topology."""
    return topology.json_schema()
