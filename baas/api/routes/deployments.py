"""Deployments: ``up`` / ``down`` of a network as tracked jobs (one at a time per network),
their list, each with phases and timings, cancelling, and their live events as Server-Sent
Events (``GET /api/v1/deployments/{id}/events``, resumable with ``Last-Event-ID``).

SSE frames: ``id`` is the event's id, ``event`` its kind (``state`` or ``progress``), ``data``
the :class:`~baas.api.schemas.Event` as JSON. The stream ends after the job's final ``state``
event (``succeeded``, ``failed``, ``cancelled`` or ``interrupted``); a comment line keeps it
alive every 15 seconds meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from baas import services
from baas.api.auth import Action, Principal, allow, refuse_unseen
from baas.api.context import Context, context
from baas.api.db import deployments as jobs_db
from baas.api.db.models import FINAL_STATES, DeploymentRow, NetworkRow
from baas.api.errors import ApiError, conflict, forbidden, not_found
from baas.api.jobs import Work
from baas.api.routes.common import (
    NetworkName,
    busy,
    errors,
    find_network,
    loaded,
    note,
    recorded,
    require_own_signatures,
    signers,
    target,
)
from baas.api.schemas import Deployment, DeploymentList, DeploymentRequest, Event

router = APIRouter(tags=["deployments"])
KEEPALIVE_SECONDS = 15.0
JobId = Path(pattern=r"^dep_[0-9a-f]{16}$", description="A deployment's id.")


def _work(ctx: Context, principal: Principal, row: NetworkRow, request: DeploymentRequest) -> Work:
    found = loaded(ctx, row)  # validated now: an invalid topology is a 422, not a failed job
    where = target(row)
    kube = ctx.settings.kube
    if request.action == "down":
        return lambda report: services.down(
            found, target=where, purge=request.purge, kube=kube, report=report
        )
    deployed = recorded(ctx, row, text=row.deployed_source) if row.deployed_source else None
    require_own_signatures(principal, before=deployed, after=found)

    def up(report: Callable[[str], None]) -> Any:
        outcome = services.up(
            found,
            target=where,
            kube=kube,
            timeout=request.timeout,
            report=report,
            signers=signers(principal, row),
        )
        _deployed(ctx, row)
        return outcome

    return up


def _deployed(ctx: Context, row: NetworkRow) -> None:
    """Remember ``row``'s topology (as the job read it) as the one the network runs."""
    with ctx.db.session() as session:
        stored = session.get(NetworkRow, row.name)
        if stored is not None:
            stored.deployed_source, stored.deployed_revision = row.source, row.revision


def start_job(
    ctx: Context,
    principal: Principal,
    request: Request,
    response: Response,
    *,
    name: str,
    action: str,
    purge: bool = False,
    work_for: Callable[[NetworkRow], Work],
) -> DeploymentRow:
    """Store a ``queued`` job of ``action`` on network ``name`` and start ``work_for(network)``
    (built first, so a topology that no longer validates is a 422 and no job). 409 names the
    network's unfinished job."""
    with ctx.db.session() as session:
        row = find_network(session, principal, name)
    work = work_for(row)
    try:
        with ctx.db.session() as session:
            job = jobs_db.create(
                session,
                network=name,
                action=action,
                target=row.target,
                purge=purge,
                revision=row.revision,
                created_by=principal.token_id,
            )
    except jobs_db.ActiveDeployment as holder:
        raise busy(name, holder) from None
    note(request, deployment=job.id)
    ctx.runner.start(job.id, work)
    response.headers["Location"] = f"/api/v1/deployments/{job.id}"
    return job


@router.post(
    "/api/v1/networks/{name}/deployments",
    status_code=202,
    response_model=Deployment,
    responses=errors(409),
)
def start_deployment(
    request: Request,
    response: Response,
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.deploy_up, Action.deploy_down)),
    ctx: Context = Depends(context),
    body: DeploymentRequest = Body(...),
) -> Deployment:
    """Start ``up`` (idempotent: converges from whatever exists, also after an interrupted
    one) or ``down``. One job per network at a time: 409 names the one running."""
    needed = Action.deploy_up if body.action == "up" else Action.deploy_down
    if not principal.may(needed):
        raise forbidden(f"a {principal.role.value} token may not start a {body.action}")
    note(request, network=name, action=body.action, purge=body.purge)
    job = start_job(
        ctx,
        principal,
        request,
        response,
        name=name,
        action=body.action,
        purge=body.purge,
        work_for=lambda row: _work(ctx, principal, row, body),
    )
    return Deployment.of(job)


@router.get(
    "/api/v1/networks/{name}/deployments", response_model=DeploymentList, responses=errors()
)
def list_deployments(
    name: str = NetworkName,
    limit: int = Query(50, ge=1, le=500),
    principal: Principal = Depends(allow(Action.read)),
    ctx: Context = Depends(context),
) -> DeploymentList:
    """The network's deployments, newest first."""
    with ctx.db.session() as session:
        find_network(session, principal, name)
        rows = jobs_db.list_for(session, name, limit=limit)
        return DeploymentList(items=[Deployment.of(r) for r in rows])


def _job(ctx: Context, principal: Principal, job_id: str, network: str | None) -> DeploymentRow:
    """Job ``job_id`` (of ``network`` when given) if the caller may see its network; the same
    403 as for networks when scoped, else 404."""
    with ctx.db.session() as session:
        row = jobs_db.get(session, job_id)
        if row is not None and network is not None and row.network != network:
            row = None
        if row is not None:
            owner = session.get(NetworkRow, row.network)
            if owner is not None and principal.sees(owner.summary["organizations"]):
                return row
        if principal.scoped:
            raise refuse_unseen(principal)
        raise not_found(f"no deployment {job_id!r}")


@router.get(
    "/api/v1/networks/{name}/deployments/{job_id}",
    response_model=Deployment,
    responses=errors(),
)
def read_network_deployment(
    name: str = NetworkName,
    job_id: str = JobId,
    principal: Principal = Depends(allow(Action.read)),
    ctx: Context = Depends(context),
) -> Deployment:
    """One deployment with its phases, timings, last step and outcome."""
    return Deployment.of(_job(ctx, principal, job_id, name))


@router.get("/api/v1/deployments/{job_id}", response_model=Deployment, responses=errors())
def read_deployment(
    job_id: str = JobId,
    principal: Principal = Depends(allow(Action.read)),
    ctx: Context = Depends(context),
) -> Deployment:
    """One deployment (by id alone)."""
    return Deployment.of(_job(ctx, principal, job_id, None))


@router.post(
    "/api/v1/networks/{name}/deployments/{job_id}/cancel",
    status_code=202,
    response_model=Deployment,
    responses=errors(409),
)
def cancel_deployment(
    request: Request,
    name: str = NetworkName,
    job_id: str = JobId,
    principal: Principal = Depends(allow(Action.cancel_deployment)),
    ctx: Context = Depends(context),
) -> Deployment:
    """Ask a queued or running deployment to stop at its next step (it ends ``cancelled``;
    what it finished stays done). A consortium-admin cancels any job; a chaincode-deployer
    only the ``up`` and ``smoke`` jobs it started itself."""
    note(request, network=name, deployment=job_id)
    row = _job(ctx, principal, job_id, name)
    if not principal.may(Action.deploy_down) and row.created_by != principal.token_id:
        raise forbidden(
            f"a {principal.role.value} token cancels only the jobs it started",
            hint="ask a consortium-admin, or the token that started it",
        )
    if row.state in FINAL_STATES:
        raise conflict(f"deployment {job_id} already ended ({row.state})")
    ctx.runner.cancel(job_id)
    with ctx.db.session() as session:
        current = jobs_db.get(session, job_id)
        assert current is not None
        return Deployment.of(current)


# --------------------------------------------------------------------------- events (SSE)


def _frame(event: Event) -> str:
    return f"id: {event.id}\nevent: {event.kind}\ndata: {event.model_dump_json()}\n\n"


def _read(ctx: Context, job_id: str, after: int) -> list[Event]:
    with ctx.db.session() as session:
        return [Event.of(e) for e in jobs_db.events_after(session, job_id, after=after)]


def _is_end(event: Event) -> bool:
    return event.kind == "state" and event.data.get("state") in FINAL_STATES


async def _stream(ctx: Context, job: DeploymentRow, after: int) -> AsyncIterator[str]:
    bus = ctx.runner.bus
    yield "retry: 2000\n\n"
    finished = job.state in FINAL_STATES
    while True:
        waiter = bus.waiter(job.id)
        try:
            events = await run_in_threadpool(_read, ctx, job.id, after)
            for event in events:
                after = event.id
                yield _frame(event)
                if _is_end(event):
                    return
            if events:
                continue
            if finished:  # resumed after the final event
                return
            try:
                await asyncio.wait_for(waiter.wait(), timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keepalive\n\n"
        finally:
            bus.forget(job.id, waiter)


def _last_event_id(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if not value.isdigit() or len(value) > 18:
        raise ApiError(
            422,
            "invalid-request",
            f"header Last-Event-ID: {value[:40]!r} is not an event id",
            hint="send the id of the last event received (a number), or no header",
        )
    return int(value)


EVENTS_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events: `id`, `event` (state or progress), `data` (JSON).",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/api/v1/deployments/{job_id}/events",
    response_class=StreamingResponse,
    responses={**EVENTS_RESPONSE, **errors()},
)
async def deployment_events(
    job_id: str = JobId,
    last_event_id: str | None = Header(None, alias="Last-Event-ID"),
    principal: Principal = Depends(allow(Action.read)),
    ctx: Context = Depends(context),
) -> StreamingResponse:
    """The deployment's events from the start, or after ``Last-Event-ID``, live until it
    ends."""
    after = _last_event_id(last_event_id)
    job = await run_in_threadpool(_job, ctx, principal, job_id, None)
    return StreamingResponse(
        _stream(ctx, job, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
