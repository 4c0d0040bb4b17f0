"""The app factory: :func:`create_app` wires the database, the job runner, the middleware
(security headers outermost, then CORS only when origins are given, no absolute server path
in a response (:mod:`baas.api.paths`), the audit log, body limit, idempotency), the error
handlers, the routes, the docs page and, last, the web console (:mod:`baas.api.webconsole`).
Start-up migrates the database and marks deployments a previous server left unfinished as
``interrupted``; shut-down interrupts running jobs at their next step.

The docs page (``/docs``, Swagger UI) needs nothing from outside the server: its script,
stylesheet and icon are the files the ``fastapi-swagger`` package ships (swagger-ui-dist's
build), served under ``/docs/assets/``; its one inline script is allowed by its SHA-256 hash
in the Content-Security-Policy, so no ``'unsafe-inline'`` is needed.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from starlette.types import ASGIApp

from baas import __version__
from baas.api import errors, webconsole
from baas.api.context import Context
from baas.api.db import Database
from baas.api.errors import ApiError
from baas.api.jobs import JobRunner
from baas.api.middleware import (
    AuditLog,
    BodyLimit,
    Idempotency,
    SecurityHeaders,
    content_security_policy,
)
from baas.api.paths import ServerPaths, Shown
from baas.api.routes import ROUTERS
from baas.api.settings import ApiSettings
from baas.home import baas_home

log = logging.getLogger("baas.api")

DESCRIPTION = """\
The baas REST API: the CLI's operations over HTTP. Networks are created from a topology
(YAML or JSON), deployed as tracked jobs with live events (Server-Sent Events), checked,
and their certificates managed. Every call but `health` and `version` needs
`Authorization: Bearer <token>` (`baas token create`).
"""

OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
DOCS_ASSETS_URL = "/docs/assets"
SWAGGER_PACKAGE = "fastapi_swagger.resources"
"""The package whose data files are swagger-ui-dist's build (PyPI: ``fastapi-swagger``)."""
DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
"""The files ``/docs`` loads, by name under :data:`DOCS_ASSETS_URL`, with their media types;
nothing else of the package is served."""
SWAGGER_PARAMETERS: dict[str, Any] = {"validatorUrl": None, "persistAuthorization": False}
"""Swagger UI settings on top of FastAPI's: no badge from the online validator (it would
send the schema's address to another host), no token kept in the browser's storage."""
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


class SecuredFastAPI(FastAPI):
    """FastAPI whose whole stack, Starlette's own error layer included (it sends the 500s),
    is wrapped by :class:`SecurityHeaders` with the policy ``csp``."""

    def __init__(self, *, csp: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.csp = csp

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), csp=self.csp)


def docs_html(*, title: str) -> str:
    """The Swagger UI page: assets from :data:`DOCS_ASSETS_URL`, the schema from
    :data:`OPENAPI_URL`, every URL relative to the server."""
    response = get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{title} - Swagger UI",
        swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon-32x32.png",
        oauth2_redirect_url=None,
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )
    return bytes(response.body).decode()


def inline_script_hashes(html: str) -> tuple[str, ...]:
    """The CSP source (``sha256-<base64>``) of each inline ``<script>`` of ``html``, hashed
    over exactly the text between its tags, as browsers do."""
    return tuple(
        "sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        for body in _INLINE_SCRIPT.findall(html)
    )


@functools.cache
def docs_asset(name: str) -> bytes:
    """The bytes of the Swagger UI file ``name`` (one of :data:`DOCS_ASSETS`), read once."""
    return resources.files(SWAGGER_PACKAGE).joinpath(name).read_bytes()


def add_docs(app: FastAPI, *, html: str) -> None:
    """``GET /docs`` (the page ``html``) and ``GET /docs/assets/{name}``, outside the schema.
    An asset name that is not in :data:`DOCS_ASSETS` is 404."""

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(html)

    @app.get(DOCS_ASSETS_URL + "/{name}", include_in_schema=False)
    async def docs_assets(name: str) -> Response:
        media_type = DOCS_ASSETS.get(name)
        if media_type is None:
            raise ApiError(404, "not-found", f"no docs asset {name!r}", hint=f"see {DOCS_URL}")
        return Response(docs_asset(name), media_type=media_type)


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

    html = docs_html(title="baas")
    app = SecuredFastAPI(
        csp=content_security_policy(script_hashes=inline_script_hashes(html)),
        title="baas",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    add_docs(app, html=html)
    webconsole.mount(app)  # last: the console takes only the GET paths nothing else claims
    app.add_middleware(Idempotency)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(AuditLog)
    app.add_middleware(
        ServerPaths, shown=Shown.of(home=baas_home(), source_dir=settings.source_dir)
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"],
        )
    return app
