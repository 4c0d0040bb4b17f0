"""What the route modules share: finding a network the caller may see, its loaded topology,
the audit note, and the error responses every route documents in the OpenAPI schema."""

from __future__ import annotations

from typing import Any, cast

from fastapi import Path, Request
from sqlalchemy.orm import Session

import topology
from baas.api import topologies
from baas.api.auth import Principal, refuse_unseen
from baas.api.context import Context
from baas.api.db.models import NetworkRow
from baas.api.errors import Problem, not_found
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


def target(row: NetworkRow) -> Target:
    """The network's target (stored only after the API checked it)."""
    return cast(Target, row.target)
