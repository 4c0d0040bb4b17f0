"""The service layer: the only way in for the CLI and the REST API. Nothing is implemented
twice.

Every service takes a loaded topology (:func:`load`), builds the plan once, does one
user-level job and returns a typed result with ``to_dict()`` — wrapped in an
:class:`~baas.services.results.Outcome` that carries the topology's validation warnings.
Progress goes to an optional ``report`` callback.

* :mod:`baas.services.runtime` — ``up``, ``down``, ``status``, ``logs``, ``plan_changes`` on a
  target (local processes or Kubernetes), and the PKI the runtimes need.
* :mod:`baas.services.fabric` — Fabric's binaries: ``fabric_list``, ``fabric_install``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import topology
from baas import plan as planning
from baas.runtimes import Report, Target
from baas.services.fabric import fabric_install, fabric_list, find_fabric
from baas.services.results import Outcome
from baas.services.runtime import (
    PKIResult,
    down,
    ensure_pki,
    logs,
    plan_changes,
    runtime_for,
    status,
    up,
)

__all__ = [
    "Outcome",
    "PKIResult",
    "Report",
    "Target",
    "down",
    "ensure_pki",
    "fabric_install",
    "fabric_list",
    "find_fabric",
    "load",
    "logs",
    "plan_changes",
    "runtime_for",
    "smoke",
    "status",
    "up",
]


def load(file: Path) -> topology.LoadedTopology:
    """Load and validate a topology (raises :class:`topology.TopologyError`)."""
    return topology.load(file)


def smoke(
    file: Path, *, target: Target, kube: Any = None, on_check: Callable[[Any], None] | None = None
) -> Any:
    """End-to-end checks of the deployed network on ``target`` (Kubernetes for now); returns
    a :class:`baas.runtimes.kubernetes.smoke.SmokeReport` (its ``passed`` says whether every
    check passed). ``on_check`` sees each check's result as soon as it is known."""
    from baas.errors import UsageError
    from baas.runtimes.kubernetes import smoke as smoke_checks
    from baas.runtimes.kubernetes.runtime import KubeOptions

    if target == "local":
        raise UsageError(
            "baas smoke does not check local networks yet",
            hint="`baas status FILE` shows every node's health and each channel's heights",
        )
    loaded = load(file)
    return smoke_checks.smoke(
        planning.build(loaded.network), kube or KubeOptions(), on_check=on_check
    )
