"""``health`` and ``version`` (no token needed: load balancers and the UI's login page call
them) and the topology format's JSON Schema (``baas schema``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool

from baas import __version__, services
from baas.api.auth import Action, Principal, allow
from baas.api.context import Context, context
from baas.api.routes.common import errors
from baas.api.schemas import Health, Version
from baas.services.results import API_VERSION

router = APIRouter(prefix="/api/v1", tags=["meta"])


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(response: Response, ctx: Context = Depends(context)) -> Health:
    """``ok`` when the database answers; 503 ``degraded`` when it does not."""
    if await run_in_threadpool(ctx.db.ping):
        return Health(status="ok", database="ok")
    response.status_code = 503
    return Health(status="degraded", database="unreachable")


@router.get("/version", response_model=Version)
async def version() -> Version:
    """baas's version and the version of its resource formats."""
    return Version(version=__version__, api_version=API_VERSION)


@router.get("/schema/topology", response_model=dict[str, Any], responses=errors())
def topology_schema(_: Principal = Depends(allow(Action.read))) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the topology format."""
    return services.schema()
