"""``/api/v1/networks/{name}/smoke``: run the network's smoke checks (``baas smoke``, with the
load probe when asked: ``baas smoke --load``) as a job, and read the latest run's report.

A smoke run is a job like a deployment (one job per network at a time; its checks stream as
``progress`` events, one line each as ``baas smoke`` prints them; it can be cancelled; a
server restart marks it interrupted). Its ``result`` is the smoke service's report: every check
with its verdict and time, and the load probe's figures (submitted, committed, failed by
reason, TPS, latency percentiles).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response
from sqlalchemy import select

from baas import services
from baas.api.auth import Action, Principal, allow
from baas.api.context import Context, context
from baas.api.db.models import DeploymentRow, NetworkRow
from baas.api.errors import not_found
from baas.api.jobs import Work
from baas.api.routes.common import (
    NetworkName,
    errors,
    find_network,
    loaded,
    note,
    signers,
    target,
)
from baas.api.routes.deployments import start_job
from baas.api.schemas import SmokeRequest, SmokeRun
from baas.runtimes.kubernetes.runtime import KubeOptions
from baas.smoke.load import LoadOptions, LoadResult
from baas.smoke.report import CheckResult, format_check

router = APIRouter(prefix="/api/v1/networks/{name}/smoke", tags=["smoke"])


def _work(ctx: Context, principal: Principal, row: NetworkRow, body: SmokeRequest) -> Work:
    found = loaded(ctx, row)
    where = target(row)
    kube = (
        dataclasses.replace(ctx.settings.kube or KubeOptions(), timeout=body.timeout)
        if where == "kubernetes"
        else None
    )
    probe = body.load
    allowed = signers(principal, row)  # a scoped caller deploys the probe only where it may sign
    options = (
        LoadOptions(duration=probe.duration, concurrency=probe.concurrency, rate=probe.rate)
        if probe is not None
        else None
    )

    def run(report: Callable[[str], None]) -> Any:
        def on_check(check: CheckResult) -> None:
            report(format_check(check)[0])

        def on_load(result: LoadResult) -> None:
            failed = sum(result.failed.values())
            report(f"load {result.channel}: {result.committed} committed, {failed} failed")

        return services.smoke(
            found,
            target=where,
            kube=kube,
            on_check=on_check,
            load=options,
            on_load=on_load,
            signers=allowed,
        )

    return run


@router.post("", status_code=202, response_model=SmokeRun, responses=errors(409))
def run_smoke(
    request: Request,
    response: Response,
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.run_smoke)),
    ctx: Context = Depends(context),
    body: SmokeRequest = Body(default_factory=SmokeRequest),
) -> SmokeRun:
    """Start a smoke run (202; follow its events, then read its report here)."""
    note(request, network=name, load=body.load is not None)
    job = start_job(
        ctx,
        principal,
        request,
        response,
        name=name,
        action="smoke",
        work_for=lambda row: _work(ctx, principal, row, body),
    )
    return SmokeRun.run(job)


@router.get("", response_model=SmokeRun, responses=errors())
def latest_smoke(
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.read)),
    ctx: Context = Depends(context),
) -> SmokeRun:
    """The latest smoke run: its state and, once it ended, whether it passed and its report."""
    with ctx.db.session() as session:
        find_network(session, principal, name)
        query = (
            select(DeploymentRow)
            .where(DeploymentRow.network == name, DeploymentRow.action == "smoke")
            .order_by(DeploymentRow.created_at.desc())
            .limit(1)
        )
        found = session.scalars(query).first()
        if found is None:
            raise not_found(
                f"no smoke run recorded for network {name}",
                hint=f"POST /api/v1/networks/{name}/smoke runs one",
            )
        return SmokeRun.run(found)
