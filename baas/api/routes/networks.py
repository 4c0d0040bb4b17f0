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

from baas import services
from baas.api import topologies
from baas.api.auth import Action, Principal, allow
from baas.api.context import Context, context
from baas.api.db import deployments as jobs_db
from baas.api.db.models import DeploymentRow, NetworkRow, now
from baas.api.errors import conflict, forbidden
from baas.api.routes.common import (
    NetworkName,
    errors,
    find_network,
    loaded,
    network,
    note,
    target,
)
from baas.api.schemas import NetworkDetail, NetworkList, NetworkSummary, ServiceResult
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


def _running(row: DeploymentRow | None, what: str) -> None:
    if row is not None:
        raise conflict(
            f"deployment {row.id} ({row.action}) of network {row.network} is {row.state}; "
            f"{what} waits for it",
            hint=f"follow it at /api/v1/deployments/{row.id}/events or cancel it",
        )


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


def _only_chaincodes_differ(old: NetworkRow, new: Any, ctx: Context) -> bool:
    before = loaded(ctx, old).network.model_dump(exclude={"spec": {"chaincodes"}})
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
    applies it. A chaincode-deployer may change ``spec.chaincodes`` only."""
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
    if not principal.may(Action.create_network) and not _only_chaincodes_differ(
        current, found, ctx
    ):
        raise forbidden(
            f"a {principal.role.value} token may change spec.chaincodes only",
            hint="leave everything else as it is",
        )
    with ctx.db.session() as session:
        _running(jobs_db.active_for(session, name), "a replacement")
        row = find_network(session, principal, name)
        row.source, row.media_type = text, media
        row.summary = topologies.summary(found)
        row.revision += 1
        row.updated_at = now()
        note(request, revision=row.revision)
        return NetworkDetail.detail(row, jobs_db.latest_for(session, name))


@router.delete("/{name}", response_model=ServiceResult, responses=errors(409))
def delete_network(
    request: Request,
    name: str = NetworkName,
    purge: bool = Query(False, description="Also delete ledgers, data and keys."),
    principal: Principal = Depends(allow(Action.delete_network)),
    ctx: Context = Depends(context),
) -> ServiceResult:
    """Stop the network (``baas down``; ``purge`` deletes its ledgers and keys too) and
    forget it. Refused while a deployment runs."""
    note(request, network=name, purge=purge)
    row = network(ctx, principal, name)
    with ctx.db.session() as session:
        _running(jobs_db.active_for(session, name), "deleting it")
    outcome = services.down(
        loaded(ctx, row), target=target(row), purge=purge, kube=ctx.settings.kube
    )
    with ctx.db.session() as session:
        _running(jobs_db.active_for(session, name), "deleting it")
        stored = session.get(NetworkRow, name)
        if stored is not None:
            session.delete(stored)
    return outcome.to_dict()


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
