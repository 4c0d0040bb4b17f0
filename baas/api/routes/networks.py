"""``/api/v1/networks``: create (from a YAML or JSON topology), validate without creating,
list, read, replace, delete; a network's ``plan`` (what ``up`` would change) and ``status``.

Bodies are the topology itself (``Content-Type: application/yaml`` or ``application/json``),
validated exactly as ``baas validate`` validates a file: an invalid one gets 422 with every
diagnostic (field path, line, column, fix) and nothing is stored.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select

import topology
from baas import services
from baas.api import topologies
from baas.api.auth import Action, Principal, allow
from baas.api.context import Context, context
from baas.api.db import deployments as jobs_db
from baas.api.db.models import NetworkRow, now
from baas.api.errors import ApiError, conflict, forbidden
from baas.api.routes.common import (
    NetworkName,
    errors,
    find_network,
    loaded,
    locked,
    network,
    note,
    recorded,
    require_own_signatures,
    target,
)
from baas.api.schemas import NetworkDetail, NetworkList, NetworkSummary, ServiceResult
from baas.errors import BaasError
from baas.services import Outcome
from topology import Diagnostic, TopologyError

router = APIRouter(prefix="/api/v1/networks", tags=["networks"])

TOPOLOGY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A baas/v1alpha1 Network topology (the format of `baas schema`), at "
        "most 1 MiB.",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}
TargetName = Literal["local", "kubernetes"]


async def _body(request: Request) -> tuple[str, bytes]:
    media = topologies.media_type(request.headers.get("content-type"))
    return media, await request.body()


_LISTED = select(
    NetworkRow.name,
    NetworkRow.target,
    NetworkRow.revision,
    NetworkRow.created_at,
    NetworkRow.updated_at,
    NetworkRow.summary,
).order_by(NetworkRow.name)


def _list(ctx: Context, principal: Principal) -> NetworkList:
    with ctx.db.engine.connect() as connection:
        rows = connection.execute(_LISTED).all()
    return NetworkList(
        items=[NetworkSummary.of(r) for r in rows if principal.sees(r.summary["organizations"])]
    )


@router.get("", response_model=NetworkList, responses=errors())
async def list_networks(
    principal: Principal = Depends(allow(Action.read)), ctx: Context = Depends(context)
) -> NetworkList:
    """Every network the token may see, by name."""
    return await ctx.db.run(_list, ctx, principal)


@router.post(
    "/validate",
    response_model=ServiceResult,
    responses=errors(415),
    openapi_extra=TOPOLOGY_BODY,
)
def validate_network(
    _: Principal = Depends(allow(Action.validate)),
    ctx: Context = Depends(context),
    body: tuple[str, bytes] = Depends(_body),
) -> ServiceResult:
    """Validate a topology without storing anything (``baas validate``): 200 with the counts
    and warnings, or 422 with every diagnostic."""
    media, raw = body
    found = topologies.parse(raw, media=media, source_dir=ctx.settings.source_dir)[1]
    return services.validated(found).to_dict()


@router.post(
    "",
    status_code=201,
    response_model=NetworkDetail,
    responses=errors(409, 415),
    openapi_extra=TOPOLOGY_BODY,
)
def create_network(
    request: Request,
    response: Response,
    where: TargetName = Query("local", alias="target", description="Where the network runs."),
    principal: Principal = Depends(allow(Action.create_network)),
    ctx: Context = Depends(context),
    body: tuple[str, bytes] = Depends(_body),
) -> NetworkDetail:
    """Store a new network from its topology (nothing runs yet: start a deployment)."""
    media, raw = body
    text, found = topologies.parse(raw, media=media, source_dir=ctx.settings.source_dir)
    name = found.network.metadata.name
    note(request, network=name, target=where)
    with ctx.db.session() as session:
        if session.get(NetworkRow, name) is not None:
            raise conflict(
                f"network {name!r} exists",
                hint=f"replace it with PUT /api/v1/networks/{name}, or choose another "
                "metadata.name",
            )
        stamp = now()
        row = NetworkRow(
            name=name,
            target=where,
            source=text,
            media_type=media,
            summary=topologies.summary(found),
            revision=1,
            created_at=stamp,
            updated_at=stamp,
            created_by=principal.token_id,
        )
        session.add(row)
    response.headers["Location"] = f"/api/v1/networks/{name}"
    return NetworkDetail.detail(row, None)


def _detail(ctx: Context, principal: Principal, name: str) -> NetworkDetail:
    with ctx.db.session() as session:
        row = find_network(session, principal, name)
        return NetworkDetail.detail(row, jobs_db.latest_for(session, name))


@router.get("/{name}", response_model=NetworkDetail, responses=errors())
async def read_network(
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.read)),
    ctx: Context = Depends(context),
) -> NetworkDetail:
    """The network: its topology as sent, counts, warnings and latest deployment."""
    return await ctx.db.run(_detail, ctx, principal, name)


def _only_chaincodes_differ(old: topology.LoadedTopology, new: topology.LoadedTopology) -> bool:
    before = old.network.model_dump(exclude={"spec": {"chaincodes"}})
    return bool(before == new.network.model_dump(exclude={"spec": {"chaincodes"}}))


@router.put(
    "/{name}",
    response_model=NetworkDetail,
    responses=errors(409, 415),
    openapi_extra=TOPOLOGY_BODY,
)
def replace_network(
    request: Request,
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.replace_network)),
    ctx: Context = Depends(context),
    body: tuple[str, bytes] = Depends(_body),
) -> NetworkDetail:
    """Replace the network's topology (``metadata.name`` must stay ``name``). The next ``up``
    applies it. A chaincode-deployer may change ``spec.chaincodes`` only; a token scoped to
    an organisation only what that organisation alone signs for (403 names the others).
    Refused (409) while a job runs on the network."""
    media, raw = body
    note(request, network=name)
    current = network(ctx, principal, name)
    text, found = topologies.parse(raw, media=media, source_dir=ctx.settings.source_dir)
    if found.network.metadata.name != name:
        raise TopologyError(
            [
                Diagnostic(
                    "error",
                    topologies.BODY,
                    "metadata.name",
                    f"the topology names network {found.network.metadata.name!r}, not {name!r}",
                    f"set metadata.name to {name!r} (a network cannot be renamed)",
                )
            ]
        )
    before = recorded(ctx, current)
    if not principal.may(Action.create_network) and not _only_chaincodes_differ(before, found):
        raise forbidden(
            f"a {principal.role.value} token may change spec.chaincodes only",
            hint="leave everything else as it is",
        )
    require_own_signatures(principal, before=before, after=found)
    with locked(ctx, principal, current, action="replace"), ctx.db.session() as session:
        row = find_network(session, principal, name)
        row.source, row.media_type = text, media
        row.summary = topologies.summary(found)
        row.revision += 1
        row.updated_at = now()
        note(request, revision=row.revision)
    with ctx.db.session() as session:
        return NetworkDetail.detail(row, jobs_db.latest_for(session, name))


def _forgotten(name: str) -> ServiceResult:
    return {"kind": "Forgotten", "network": name, "stopped": False}


@router.delete("/{name}", response_model=ServiceResult, responses=errors(409))
def delete_network(
    request: Request,
    name: str = NetworkName,
    purge: bool = Query(False, description="Also delete ledgers, data and keys."),
    force: bool = Query(
        False,
        description="Forget the network without stopping it (when its nodes cannot be "
        "reached, e.g. a cluster this server has no access to); its nodes and files stay.",
    ),
    principal: Principal = Depends(allow(Action.delete_network)),
    ctx: Context = Depends(context),
) -> ServiceResult:
    """Stop the network (``baas down``; ``purge`` deletes its ledgers and keys too) and
    forget it; ``force`` forgets it without stopping anything. Holds the network's lock:
    refused (409, before anything runs) while a job runs, and no job starts meanwhile."""
    note(request, network=name, purge=purge, force=force)
    row = network(ctx, principal, name)
    if force and purge:
        raise ApiError(
            422,
            "invalid-request",
            "purge deletes the network's files, which force leaves",
            hint="drop one of purge and force",
        )
    found = recorded(ctx, row)  # down needs no chaincode source: a folder may have gone
    with locked(ctx, principal, row, action="delete", purge=purge):
        outcome = None if force else _down(ctx, row, found, purge=purge)
        with ctx.db.session() as session:
            stored = session.get(NetworkRow, name)
            if stored is not None:
                session.delete(stored)
    return outcome.to_dict() if outcome is not None else _forgotten(name)


def _down(
    ctx: Context, row: NetworkRow, found: topology.LoadedTopology, *, purge: bool
) -> Outcome[Any]:
    """``baas down``; a failure (a cluster this server cannot reach) says how to forget the
    network instead."""
    try:
        return services.down(found, target=target(row), purge=purge, kube=ctx.settings.kube)
    except BaasError as exc:
        forget = f"DELETE /api/v1/networks/{row.name}?force=true forgets it without stopping it"
        exc.hint = f"{exc.hint}; or {forget}" if exc.hint else forget
        raise


@router.get("/{name}/plan", response_model=ServiceResult, responses=errors())
def plan_network(
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.read)),
    ctx: Context = Depends(context),
) -> ServiceResult:
    """What an ``up`` would change now (``baas plan --target``), read-only."""
    row = network(ctx, principal, name)
    outcome = services.plan_changes(loaded(ctx, row), target=target(row), kube=ctx.settings.kube)
    return outcome.to_dict()


@router.get("/{name}/status", response_model=ServiceResult, responses=errors())
def network_status(
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.read)),
    ctx: Context = Depends(context),
) -> ServiceResult:
    """What runs (``baas status``): every node with its health, each channel's heights and
    committed chaincodes."""
    row = network(ctx, principal, name)
    outcome = services.status(loaded(ctx, row), target=target(row), kube=ctx.settings.kube)
    return outcome.to_dict()
