"""The service layer: the only way in for the CLI and the REST API. Nothing is implemented
twice.

Every service takes a loaded topology (:func:`load`), builds the plan once, does one
user-level job and returns a typed result with ``to_dict()`` — wrapped in an
:class:`~baas.services.results.Outcome` that carries the topology's validation warnings.
Progress goes to an optional ``report`` callback.

* :mod:`baas.services.runtime` — ``up``, ``down``, ``status``, ``logs``, ``plan_changes`` on a
  target (local processes or Kubernetes), and the PKI the runtimes need.
* :mod:`baas.services.fabric` — Fabric's binaries: ``fabric_list``, ``fabric_install``.
* :mod:`baas.services.pki` — crypto material: ``pki_generate``, ``pki_status``, ``pki_renew``,
  ``pki_revoke``, ``pki_rotate_ca``.
* :mod:`baas.services.render` — ``render``: the Kubernetes manifests as files.
* :mod:`baas.services.plan` — ``validate``, ``describe_plan``, ``schema``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import topology
from baas.runtimes import Report, Target
from baas.services.results import Outcome

if TYPE_CHECKING:  # the names below load lazily (see __getattr__): commands stay quick to start
    from baas.services.fabric import fabric_install, fabric_list, find_fabric
    from baas.services.pki import (
        PKIChanges,
        PKIStatus,
        pki_generate,
        pki_renew,
        pki_revoke,
        pki_rotate_ca,
        pki_status,
    )
    from baas.services.plan import (
        PlanResult,
        ValidationResult,
        describe_plan,
        schema,
        validate,
        validated,
    )
    from baas.services.render import RenderedFiles, render
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

_LAZY = {
    "baas.services.fabric": ("fabric_install", "fabric_list", "find_fabric"),
    "baas.services.pki": (
        "PKIChanges",
        "PKIStatus",
        "pki_generate",
        "pki_renew",
        "pki_revoke",
        "pki_rotate_ca",
        "pki_status",
    ),
    "baas.services.plan": (
        "PlanResult",
        "ValidationResult",
        "describe_plan",
        "schema",
        "validate",
        "validated",
    ),
    "baas.services.render": ("RenderedFiles", "render"),
    "baas.services.runtime": (
        "PKIResult",
        "down",
        "ensure_pki",
        "logs",
        "plan_changes",
        "runtime_for",
        "status",
        "up",
    ),
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import a service's module on first use: ``baas validate`` need not load the runtimes,
    the admin client or the Kubernetes client."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'baas.services' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Outcome",
    "PKIChanges",
    "PKIResult",
    "PKIStatus",
    "PlanResult",
    "RenderedFiles",
    "Report",
    "Target",
    "ValidationResult",
    "describe_plan",
    "down",
    "ensure_pki",
    "fabric_install",
    "fabric_list",
    "find_fabric",
    "load",
    "logs",
    "pki_generate",
    "pki_renew",
    "pki_revoke",
    "pki_rotate_ca",
    "pki_status",
    "plan_changes",
    "render",
    "runtime_for",
    "schema",
    "smoke",
    "status",
    "up",
    "validate",
    "validated",
]


def load(file: Path) -> topology.LoadedTopology:
    """Load and validate a topology (raises :class:`topology.TopologyError`)."""
    return topology.load(file)


def smoke(
    loaded: topology.LoadedTopology,
    *,
    target: Target = "local",
    kube: Any = None,
    on_check: Callable[[Any], None] | None = None,
    load: Any = None,
    on_load: Callable[[Any], None] | None = None,
    signers: frozenset[str] | None = None,
) -> Outcome[Any]:
    """End-to-end checks of the running network on ``target``: an Outcome whose value is a
    :class:`baas.smoke.report.SmokeReport` (its ``passed`` says whether every check passed).
    ``on_check`` sees each check's result as soon as it is known; ``load``
    (:class:`baas.smoke.load.LoadOptions`) adds a load probe, reported to ``on_load`` every
    second. ``signers``: the organisations whose admins may sign the probe chaincode's
    deployment (``None``: every one; see :func:`baas.services.runtime.up`)."""
    from baas import plan as planning
    from baas.services.runtime import runtime_for

    plan = planning.build(loaded.network)
    runtime = runtime_for(target, loaded, kube=kube)
    report = runtime.smoke(plan, on_check=on_check, load=load, on_load=on_load, signers=signers)
    return Outcome("SmokeReport", report, loaded.warnings)
