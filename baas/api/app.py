"""The app factory: :func:`create_app` wires the database, the job runner, the middleware
(audit log, body limit, idempotency, CORS only when origins are given), the error handlers and
the routes. Start-up migrates the database and marks deployments a previous server left
unfinished as ``interrupted``; shut-down interrupts running jobs at their next step.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from baas import __version__
from baas.api import errors
from baas.api.context import Context
from baas.api.db import Database
from baas.api.jobs import JobRunner
from baas.api.middleware import AuditLog, BodyLimit, Idempotency
from baas.api.routes import ROUTERS
from baas.api.settings import ApiSettings

log = logging.getLogger("baas.api")

DESCRIPTION = """\
The baas REST API: the CLI's operations over HTTP. Networks are created from a topology
(YAML or JSON), deployed as tracked jobs with live events (Server-Sent Events), checked,
and their certificates managed. Every call but `health` and `version` needs
`Authorization: Bearer <token>` (`baas token create`).
"""


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """The ASGI app for ``settings`` (defaults: see :class:`ApiSettings`). Connects to
    nothing until it starts."""
    settings = settings or ApiSettings()
    db = Database(settings.database_url)
    ctx = Context(db=db, settings=settings, runner=JobRunner(db, workers=settings.job_workers))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(db.migrate)
        interrupted = await asyncio.to_thread(ctx.runner.recover)
        if interrupted:
            log.warning("marked %d unfinished deployment(s) interrupted", len(interrupted))
        ctx.runner.bus.bind(asyncio.get_running_loop())
        log.info("baas API on database %s", db.shown)
        try:
            yield
        finally:
            await asyncio.to_thread(ctx.runner.shutdown)
            db.dispose()

    app = FastAPI(
        title="baas",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(Idempotency)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(AuditLog)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"],
        )
    return app
