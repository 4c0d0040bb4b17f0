"""Running a network: ``up``, ``down``, ``status``, ``logs``, ``plan`` against a target, for the
CLI and the REST API alike. :func:`runtime_for` is the one place that picks a runtime.

Each service takes a loaded topology (its warnings travel with the result), builds the plan
once, and returns an :class:`~baas.services.results.Outcome`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pki
import topology
from baas import plan as planning
from baas.errors import UsageError
from baas.home import crypto_dir, network_dir
from baas.runtimes import Report, Result, Runtime, Target
from baas.runtimes.kubernetes.runtime import KubeOptions, KubernetesRuntime
from baas.runtimes.local.runtime import LocalRuntime
from baas.services.pki import pki_generate
from baas.services.results import Outcome


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class PKIResult:
    """What ``ensure_pki`` did."""

    root: Path
    summary: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"crypto": str(self.root), "identities": dict(self.summary)}


def ensure_pki(
    loaded: topology.LoadedTopology, *, out: Path | None = None, report: Report = _quiet
) -> PKIResult:
    """Issue whatever crypto material the network lacks (idempotent); ``out`` defaults to
    ``$BAAS_HOME/networks/<name>/crypto``. The runtimes' view of :func:`pki_generate` (which
    reports the one ``pki <root>: …`` line): the root and the count per action."""
    changes = pki_generate(loaded, out=out, report=report).value
    return PKIResult(changes.root, changes.summary)


def _refuse_rotation(loaded: topology.LoadedTopology, plan: planning.Plan) -> None:
    """A TLS CA rotation (``baas pki rotate-ca``) is rolled out by the local runtime only:
    refuse to deploy a tree in the middle of one elsewhere, before anything is written."""
    root = crypto_dir(loaded.network.metadata.name)
    if not root.is_dir():
        return
    rotating = pki.rotations(root, planning.pki_org_specs_from_plan(plan))
    if rotating:
        raise UsageError(
            f"the TLS CA of {', '.join(r.org for r in rotating)} is rotating; the Kubernetes "
            "target cannot roll a TLS CA rotation out yet",
            hint="finish it on the local runtime (`baas up FILE -t local`) before deploying",
        )


def runtime_for(
    target: Target,
    loaded: topology.LoadedTopology,
    *,
    kube: KubeOptions | None = None,
    fabric_bin: Path | None = None,
    timeout: float | None = None,
) -> Runtime:
    """The runtime that runs ``loaded``'s network on ``target``."""
    if target == "kubernetes":
        return KubernetesRuntime(kube or KubeOptions(), fabric_bin=fabric_bin)
    name = loaded.network.metadata.name
    return LocalRuntime(
        state_dir=network_dir(name),
        sources=loaded.sources,
        release=loaded.network.spec.fabric.pinned,
        fabric_bin=fabric_bin,
        timeout=timeout,
    )


def up(
    loaded: topology.LoadedTopology,
    *,
    target: Target = "local",
    kube: KubeOptions | None = None,
    fabric_bin: Path | None = None,
    timeout: float | None = None,
    report: Report = _quiet,
    signers: frozenset[str] | None = None,
) -> Outcome[Result]:
    """Bring the network up on ``target`` (idempotent). The runtime checks what it needs
    (binaries, a cluster) before any key is issued, so a wrong setup writes nothing.
    ``signers``: the organisations whose admins may sign changes (``None``: every one); a
    change that needs another's signature raises :class:`~baas.errors.SigningRefused`
    before it is made (the REST API passes the caller's organisation)."""
    plan = planning.build(loaded.network)
    if target == "kubernetes":
        _refuse_rotation(loaded, plan)
    runtime = runtime_for(target, loaded, kube=kube, fabric_bin=fabric_bin, timeout=timeout)
    runtime.preflight(plan)
    crypto = ensure_pki(loaded, report=report).root
    return Outcome(
        "UpResult", runtime.up(plan, crypto=crypto, report=report, signers=signers), loaded.warnings
    )


def down(
    loaded: topology.LoadedTopology,
    *,
    target: Target = "local",
    purge: bool = False,
    kube: KubeOptions | None = None,
    report: Report = _quiet,
) -> Outcome[Result]:
    """Stop the network; ``purge`` also deletes its data and key material."""
    plan = planning.build(loaded.network)
    runtime = runtime_for(target, loaded, kube=kube)
    return Outcome("DownResult", runtime.down(plan, purge=purge, report=report), loaded.warnings)


def status(
    loaded: topology.LoadedTopology, *, target: Target = "local", kube: KubeOptions | None = None
) -> Outcome[Result]:
    """What runs for the network on ``target``."""
    plan = planning.build(loaded.network)
    return Outcome("Status", runtime_for(target, loaded, kube=kube).status(plan), loaded.warnings)


def plan_changes(
    loaded: topology.LoadedTopology, *, target: Target, kube: KubeOptions | None = None
) -> Outcome[Result]:
    """What ``up`` would change on ``target``, read-only (writes neither keys nor nodes)."""
    plan = planning.build(loaded.network)
    runtime = runtime_for(target, loaded, kube=kube)
    crypto = crypto_dir(loaded.network.metadata.name)
    return Outcome("ChangePlan", runtime.changes(plan, crypto=crypto), loaded.warnings)


def logs(
    loaded: topology.LoadedTopology,
    *,
    target: Target = "local",
    node: str | None = None,
    follow: bool = False,
    lines: int = 50,
    kube: KubeOptions | None = None,
) -> Iterator[str]:
    """Log lines of one node (or all)."""
    plan = planning.build(loaded.network)
    runtime = runtime_for(target, loaded, kube=kube)
    return runtime.logs(plan, node=node, follow=follow, lines=lines)
