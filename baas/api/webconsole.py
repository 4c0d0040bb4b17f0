"""The web console (``ui/``, a single-page app) served by ``baas serve`` at ``/``.

The console is built (``bash scripts/build-ui.sh``) into the package-data folder
``baas/api/console/``: ``index.html`` and hashed files under ``assets/``. :func:`mount` adds
one route that answers ``GET`` for every path that no other route claims and that is not the
API's (``/api/…``), the docs' (``/docs…``) or the schema's (``/openapi.json``):

* a path naming a file of the build gets that file;
* any other path gets ``index.html`` (history fallback: ``/networks/x`` is a screen of the app,
  so a reload or a deep link loads the app, which then routes in the browser);
* when the console is not built, every such path gets a short page saying how to build it
  (status 200: the server works, only the console is missing).

Other methods, and the excluded prefixes, are left to the rest of the app exactly as before
(so ``GET /api/v1/nothing`` is still the API's 404 problem and ``POST /x`` a 404).

The console needs nothing but the server's own origin: the build emits external script and
style files only (no inline script or style), so the app's Content-Security-Policy
(:func:`baas.api.middleware.content_security_policy`) applies unchanged.
"""

from __future__ import annotations

import mimetypes
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.requests import Request
from starlette.routing import Match, Route
from starlette.types import Scope

CONSOLE_PACKAGE = "baas.api"
CONSOLE_FOLDER = "console"
"""The build's folder inside :data:`CONSOLE_PACKAGE` (``scripts/build-ui.sh`` writes it)."""
EXCLUDED_PREFIXES = ("/api/", "/docs", "/openapi.json")
"""Paths the console never answers: they belong to the API, the docs page and the schema."""
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".woff2": "font/woff2",
}
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>baas console not built</title></head>
<body><h1>The baas web console is not built</h1>
<p>The REST API works (<a href="/docs">/docs</a>); the console's files are missing from this
installation. Build them from a checkout with <code>bash scripts/build-ui.sh</code> (needs
Node.js 20 and npm), then restart <code>baas serve</code>.</p></body></html>
"""


def console_root() -> Traversable:
    """The folder of the console's build (it may not exist)."""
    return resources.files(CONSOLE_PACKAGE).joinpath(CONSOLE_FOLDER)


def built(root: Traversable | None = None) -> bool:
    """Whether ``root`` (default: :func:`console_root`) holds a build (its ``index.html``)."""
    return (root or console_root()).joinpath("index.html").is_file()


def media_type(name: str) -> str:
    """The ``Content-Type`` of a file of the build, by its suffix."""
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot >= 0 else ""
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def find_file(root: Traversable, path: str) -> Traversable | None:
    """The file of ``root`` at URL path ``path`` (``/assets/x.js``), or None: for a folder, a
    missing file, and any path with an empty, ``.`` or ``..`` segment or a backslash (nothing
    outside ``root`` is ever reached)."""
    parts = path.strip("/").split("/")
    if not parts or any(p in ("", ".", "..") or "\\" in p for p in parts):
        return None
    found = root
    for part in parts:
        found = found.joinpath(part)
    return found if found.is_file() else None


class ConsoleRoute(Route):
    """A ``GET``-only route for every path outside :data:`EXCLUDED_PREFIXES`. It never matches
    another method or an excluded path, even partially, so those keep the answers (404, 405
    and its ``Allow``) the app gives without it."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "GET":
            return Match.NONE, {}
        path: str = scope["path"]
        if path.startswith(EXCLUDED_PREFIXES) or path == "/api":
            return Match.NONE, {}
        # PARTIAL, not FULL: the router prefers any route that matches fully, wherever it was
        # added (a route added after mount() still wins), and falls back to this one.
        return Match.PARTIAL, {"endpoint": self.endpoint, "path_params": {}}


def console_endpoint(root: Traversable) -> Any:
    """The endpoint serving ``root``: a file of the build, else ``index.html``, else the
    "not built" page (the build is looked for on each request, so building while the server
    runs is enough)."""

    async def serve(request: Request) -> Response:
        index = root.joinpath("index.html")
        if not index.is_file():
            return HTMLResponse(NOT_BUILT)
        path = request.url.path
        found = find_file(root, path) if path != "/" else None
        if found is not None:
            return Response(found.read_bytes(), media_type=media_type(found.name))
        return HTMLResponse(index.read_bytes())

    return serve


def mount(app: FastAPI, root: Traversable | None = None) -> None:
    """Serve the console of ``root`` (default: :func:`console_root`) on ``app``; call it after
    every other route is added (it only takes what they leave)."""
    app.router.routes.append(ConsoleRoute("/", console_endpoint(root or console_root())))
