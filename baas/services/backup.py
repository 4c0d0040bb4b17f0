"""Backup and restore of a network, for the CLI (and later the REST API: each call is one
job with a ``report`` callback and a typed result).

* :func:`backup` — a running network into a backup folder (:mod:`baas.backup.create`);
* :func:`restore` — a backup folder into the network's ``$BAAS_HOME`` tree
  (:mod:`baas.backup.restore`), verified before anything is written.

Only the local target is implemented; ``target`` is part of the signature so the Kubernetes
path (snapshots through the admin route, ledgers copied out of pods) can be added behind it.
The passphrase is an argument: the CLI takes it from ``BAAS_BACKUP_PASSPHRASE`` or a prompt,
an API job from its request.
"""

from __future__ import annotations

from pathlib import Path

import topology
from baas import plan as planning
from baas.backup import create as creating
from baas.backup import restore as restoring
from baas.errors import UsageError
from baas.home import ensure_home, network_dir
from baas.runtimes import Report, Target
from baas.services.results import Outcome


def _quiet(_: str) -> None:
    return None


def _local_only(target: Target, what: str) -> None:
    if target != "local":
        raise UsageError(
            f"{what} runs on the local target only for now",
            hint="run it with -t local (Kubernetes backups are planned: issue 21, item 5)",
        )


def backup(
    loaded: topology.LoadedTopology,
    *,
    to: Path,
    passphrase: str,
    target: Target = "local",
    report: Report = _quiet,
) -> Outcome[creating.BackupResult]:
    """Back the running network of ``loaded`` up into the folder ``to`` (created; an earlier
    backup there is replaced once the new one is complete). UsageError when the network does
    not run here, ``to`` holds something else, or the passphrase is too short."""
    from baas.runtimes.local.runtime import LocalRuntime

    _local_only(target, "backup")
    if "://" in str(to):
        raise UsageError(
            f"{to}: only a folder is supported as a backup destination for now",
            hint="back up to a folder, then copy it to object storage",
        )
    plan = planning.build(loaded.network)
    state_dir = network_dir(plan.network)
    runtime = LocalRuntime(
        state_dir=state_dir, sources=loaded.sources, release=loaded.network.spec.fabric.pinned
    )
    request = creating.BackupRequest(
        plan=plan,
        topology_text=loaded.path.read_text(),
        state_dir=state_dir,
        dest=to.absolute(),
        passphrase=passphrase,
        fabric_version=loaded.network.spec.fabric.pinned,
    )
    with runtime.access(plan) as access:
        _require_running(runtime, plan)
        result = creating.create(request, access=access, report=report)
    return Outcome("BackupResult", result, loaded.warnings)


def _require_running(runtime: object, plan: planning.Plan) -> None:
    from baas.runtimes.local.runtime import LocalRuntime

    assert isinstance(runtime, LocalRuntime)
    state = runtime.status(plan)
    down = [n["name"] for n in state.nodes if not n.get("healthy")]
    if down:
        raise UsageError(
            f"network {plan.network} is not fully up ({', '.join(down)} not healthy): a backup "
            "needs every node",
            hint="bring it up with `baas up FILE`, then back it up",
        )


def restore(
    source: Path,
    *,
    passphrase: str,
    as_network: str | None = None,
    target: Target = "local",
    report: Report = _quiet,
) -> Outcome[restoring.RestoreResult]:
    """Restore the backup folder ``source`` as network ``as_network`` (default: the backed-up
    name) into ``$BAAS_HOME/networks/<name>``, which must be empty or absent (or hold this
    very restore). Verifies everything before writing; ``baas up FILE`` then brings the
    network back at the backed-up heights."""
    _local_only(target, "restore")

    def folder_for(name: str) -> Path:
        ensure_home()
        return network_dir(name)

    result = restoring.restore(
        source.absolute(),
        folder_for=folder_for,
        passphrase=passphrase,
        report=report,
        network=as_network,
    )
    return Outcome("RestoreResult", result, [])
