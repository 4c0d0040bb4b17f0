"""The service layer: what the CLI and the REST API both call. Nothing is implemented twice.

Each function takes a topology file path (or a loaded topology), does one user-level job and
returns plain results; progress goes to an optional ``report`` callback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import topology
from baas import plan as planning
from baas.errors import UsageError
from baas.home import crypto_dir

Target = Literal["local", "kubernetes"]
Report = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def load(file: Path) -> topology.LoadedTopology:
    """Load and validate a topology (raises :class:`topology.TopologyError`)."""
    return topology.load(file)


def ensure_pki(
    loaded: topology.LoadedTopology, *, out: Path | None = None, report: Report = _quiet
) -> Path:
    """Generate missing crypto material for the network; return the tree's root."""
    import pki

    root = out or crypto_dir(loaded.network.metadata.name)
    result = pki.generate(
        root, planning.pki_org_specs(loaded.network), planning.pki_options(loaded.network)
    )
    summary = ", ".join(f"{n} {action}" for action, n in result.summary().items())
    report(f"pki {root}: {summary or 'nothing to do'}")
    return root


def _local_unavailable() -> UsageError:
    return UsageError(
        "the local runtime is not available: it runs Fabric's own peer and orderer binaries, "
        "which cannot be built from the module proxy reachable here",
        hint="deploy to a cluster with --target kubernetes (see README, 'Status')",
    )


def up(file: Path, *, target: Target, kube: Any = None, report: Report = _quiet) -> Any:
    """Bring the network up on ``target``; idempotent. ``kube`` is a
    :class:`baas.kubernetes.runtime.KubeOptions` for the Kubernetes target."""
    if target == "local":
        raise _local_unavailable()
    from baas.kubernetes import runtime
    from baas.kubernetes.cluster import api_client

    loaded = load(file)
    options = kube or runtime.KubeOptions()
    api_client(options.target)  # a wrong kubeconfig or context fails before anything is written
    root = ensure_pki(loaded, report=report)
    return runtime.up(planning.build(loaded.network), root, options, report=report)


def down(
    file: Path, *, target: Target, purge: bool = False, kube: Any = None, report: Report = _quiet
) -> list[str]:
    """Stop the network; ``purge`` also deletes its data and key material in the cluster."""
    if target == "local":
        raise _local_unavailable()
    from baas.kubernetes import runtime

    loaded = load(file)
    return runtime.down(
        planning.build(loaded.network), kube or runtime.KubeOptions(), purge=purge, report=report
    )


def status(file: Path, *, target: Target, kube: Any = None) -> dict[str, Any]:
    """What runs for the network on ``target``."""
    if target == "local":
        raise _local_unavailable()
    from baas.kubernetes import runtime

    loaded = load(file)
    return runtime.status(planning.build(loaded.network), kube or runtime.KubeOptions())


def smoke(
    file: Path, *, target: Target, kube: Any = None, on_check: Callable[[Any], None] | None = None
) -> Any:
    """End-to-end checks of the deployed network on ``target``; returns a
    :class:`baas.kubernetes.smoke.SmokeReport` (its ``passed`` says whether every check
    passed). ``on_check`` sees each check's result as soon as it is known. ``kube.timeout`` is
    each helm test pod's timeout."""
    if target == "local":
        raise _local_unavailable()
    from baas.kubernetes import runtime
    from baas.kubernetes import smoke as smoke_checks

    loaded = load(file)
    return smoke_checks.smoke(
        planning.build(loaded.network), kube or runtime.KubeOptions(), on_check=on_check
    )


def plan_changes(file: Path, *, target: Target, kube: Any = None) -> Any:
    """What ``up`` would change on ``target``, read-only: a
    :class:`baas.kubernetes.planning.ChangePlan`. Writes nothing — not the crypto tree (when it
    does not exist yet, every identity is reported as to be issued), not the cluster."""
    if target == "local":
        raise _local_unavailable()
    from baas.kubernetes import planning as kube_planning
    from baas.kubernetes import runtime

    loaded = load(file)
    return kube_planning.plan_changes(
        planning.build(loaded.network),
        crypto_dir(loaded.network.metadata.name),
        kube or runtime.KubeOptions(),
    )
