"""What the route modules share: finding a network the caller may see, its loaded topology,
the audit note, and the error responses every route documents in the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from fastapi import Path, Request
from sqlalchemy.orm import Session

import topology
from baas import plan as planning
from baas.api import jobs, topologies
from baas.api.auth import Principal, refuse_unseen
from baas.api.context import Context
from baas.api.db.deployments import ActiveDeployment
from baas.api.db.models import DeploymentRow, NetworkRow
from baas.api.errors import ApiError, Problem, conflict, not_found
from baas.errors import SigningRefused
from baas.network import signatures
from baas.runtimes import Target

NetworkName = Path(
    pattern=r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$",
    max_length=40,
    description="The network's name (metadata.name of its topology).",
)


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("No valid API token."),
    403: _problem("The token may not do this (or may not see the resource)."),
    404: _problem("No such resource."),
    413: _problem("The request body is over 1 MiB."),
    422: _problem("Invalid input: diagnostics name each field path and the fix."),
    500: _problem("A failure inside baas (no details reach the client)."),
    502: _problem("Fabric, Kubernetes or a tool refused or failed."),
}


def errors(*extra: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of a route: the common ones plus ``extra`` (409, 415, 501)."""
    more = {
        409: _problem("Conflicts with the current state (e.g. a deployment is running)."),
        415: _problem("The body is neither YAML nor JSON."),
        501: _problem("Not available in this version of baas."),
    }
    return {**ERRORS, **{code: more[code] for code in extra}}


def note(request: Request, **detail: Any) -> None:
    """Add ``detail`` to this call's audit log entry."""
    audit = getattr(request.state, "audit", None) or {}
    audit.update(detail)
    request.state.audit = audit


def find_network(session: Session, principal: Principal, name: str) -> NetworkRow:
    """The network ``name`` if the caller may see it. A scoped caller gets the same 403 for a
    network it cannot see and for one that does not exist; others get 404 for the latter."""
    row = session.get(NetworkRow, name)
    if row is not None and principal.sees(row.summary["organizations"]):
        return row
    if principal.scoped:
        raise refuse_unseen(principal)
    raise not_found(f"no network {name!r}", hint="GET /api/v1/networks lists them")


def network(ctx: Context, principal: Principal, name: str) -> NetworkRow:
    """:func:`find_network` in its own session."""
    with ctx.db.session() as session:
        return find_network(session, principal, name)


def loaded(ctx: Context, row: NetworkRow) -> topology.LoadedTopology:
    """The stored network's topology, validated again (raises TopologyError → 422)."""
    return topologies.loaded(row, source_dir=ctx.settings.source_dir)


def recorded(ctx: Context, row: NetworkRow, *, text: str | None = None) -> topology.LoadedTopology:
    """The stored topology (or ``text``, e.g. the one last deployed), validated without
    looking at chaincode folders: for what needs no chaincode source (``down``, deciding
    what a change signs)."""
    network, warnings = topology.loads(text or row.source, source=f"network {row.name}")
    path = ctx.settings.source_dir.resolve() / f"{row.name}.yaml"
    return topology.LoadedTopology(path=path, network=network, warnings=warnings)


def target(row: NetworkRow) -> Target:
    """The network's target (stored only after the API checked it)."""
    return cast(Target, row.target)


def busy(name: str, holder: ActiveDeployment) -> ApiError:
    """The 409 for a network whose one lock ``holder`` has."""
    return conflict(
        f"network {name} already has job {holder.id} ({holder.action}, {holder.state})",
        hint=f"wait for it (GET /api/v1/deployments/{holder.id}/events) or cancel it",
    )


@contextmanager
def locked(
    ctx: Context, principal: Principal, row: NetworkRow, *, action: str, purge: bool = False
) -> Iterator[DeploymentRow]:
    """Hold network ``row``'s one lock while the block changes it (:func:`jobs.claim` and
    :func:`jobs.holding`: the change is a job of ``action`` in the network's history); 409
    naming the holder — before anything runs — while another job has it."""
    try:
        job = jobs.claim(
            ctx.db,
            network=row.name,
            action=action,
            target=row.target,
            revision=row.revision,
            created_by=principal.token_id,
            purge=purge,
        )
    except ActiveDeployment as holder:
        raise busy(row.name, holder) from None
    with jobs.holding(ctx.db, job):
        yield job


def require_own_signatures(
    principal: Principal, *, before: topology.LoadedTopology | None, after: topology.LoadedTopology
) -> None:
    """Raise :class:`~baas.errors.SigningRefused` (403 naming them) when going from
    ``before`` (deployed or stored; None: never deployed) to ``after`` needs the admin
    signatures of organisations other than a scoped caller's own
    (:func:`baas.network.signatures.required`). Unscoped callers pass."""
    if not principal.scoped:
        return
    own = principal.own_org(
        {"name": o.name, "mspId": o.msp_id} for o in after.network.spec.organizations
    )
    needed = signatures.required(
        planning.build(before.network) if before is not None else None,
        planning.build(after.network),
    )
    refused = signatures.others(needed, own or "")
    if refused:
        purposes = dict.fromkeys(p for found in refused.values() for p in found)
        raise SigningRefused(
            list(refused),
            purpose="; ".join(purposes),
            allowed=frozenset({own}) if own else frozenset(),
        )


def signers(principal: Principal, row: NetworkRow) -> frozenset[str] | None:
    """The organisations a job started by ``principal`` may sign changes for: a scoped
    caller's own (none when it is not in the network), everyone's for others."""
    if not principal.scoped:
        return None
    own = principal.own_org(row.summary["organizations"])
    return frozenset({own}) if own is not None else frozenset()
