"""The one place errors become HTTP responses. Every error body has the same shape
(:class:`Problem`): ``status``, a stable ``code``, ``message`` (what went wrong), ``hint`` (what
to try) and, for bad input, ``diagnostics`` naming each field path (with line and column for
topologies, like ``baas validate``).

* :class:`topology.TopologyError` → 422 ``invalid-topology`` with every diagnostic.
* :class:`baas.errors.UsageError` → 422 ``invalid-request``.
* :class:`baas.errors.SigningRefused` → 403 ``signing-refused`` (a step would sign as an
  organisation the caller may not sign for).
* :class:`baas.errors.OperationError` → 502 ``operation-failed`` (Fabric, Kubernetes, Vault
  or a tool refused or failed).
* other :class:`baas.errors.BaasError` → 500 ``operation-failed``.
* :class:`ApiError` → its own status and code (401, 403, 404, 409, 413, 501, …).
* request validation (FastAPI) → 422 ``invalid-request`` with the field paths.
* anything else → 500 ``internal-error``: the class name only; the traceback goes to the
  server log, never to the client.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from baas.errors import BaasError, OperationError, SigningRefused, UsageError
from topology import TopologyError

log = logging.getLogger("baas.api")


class DiagnosticModel(BaseModel):
    """One finding about the input: ``path`` is the field path (``spec.organizations[1].mspId``,
    ``body.action``); ``line``/``column`` are 1-based when known."""

    severity: str = "error"
    file: str = ""
    path: str
    line: int | None = None
    column: int | None = None
    message: str
    hint: str = ""


class Problem(BaseModel):
    """Every error response's body."""

    status: int
    code: str
    message: str
    hint: str = ""
    diagnostics: list[DiagnosticModel] = Field(default_factory=list)


class ApiError(Exception):
    """An error the API itself decides (``status``, stable ``code``, message and hint)."""

    def __init__(
        self, status: int, code: str, message: str, *, hint: str = "", headers: Any = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint
        self.headers: dict[str, str] | None = headers


def unauthorized() -> ApiError:
    return ApiError(
        401,
        "unauthenticated",
        "this call needs a valid API token",
        hint="send `Authorization: Bearer <token>`; create one with `baas token create`",
        headers={"WWW-Authenticate": "Bearer"},
    )


def forbidden(message: str = "this token may not do that", hint: str = "") -> ApiError:
    return ApiError(403, "forbidden", message, hint=hint)


def not_found(message: str, hint: str = "") -> ApiError:
    return ApiError(404, "not-found", message, hint=hint)


def conflict(message: str, hint: str = "") -> ApiError:
    return ApiError(409, "conflict", message, hint=hint)


def problem(
    status: int,
    code: str,
    message: str,
    *,
    hint: str = "",
    diagnostics: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The JSON response of one error."""
    body = Problem(
        status=status,
        code=code,
        message=message,
        hint=hint,
        diagnostics=[DiagnosticModel.model_validate(d) for d in diagnostics or []],
    )
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _topology_error(exc: TopologyError) -> JSONResponse:
    errors = exc.errors
    first = errors[0] if errors else None
    message = (
        f"{len(errors)} error{'s' if len(errors) != 1 else ''} in the topology; nothing was changed"
    )
    return problem(
        422,
        "invalid-topology",
        message,
        hint=first.hint if first else "",
        diagnostics=[d.to_dict() for d in exc.diagnostics],
    )


def to_response(exc: BaseException) -> JSONResponse:
    """The response for ``exc`` (see the module docstring)."""
    if isinstance(exc, ApiError):
        return problem(exc.status, exc.code, exc.message, hint=exc.hint, headers=exc.headers)
    if isinstance(exc, TopologyError):
        return _topology_error(exc)
    if isinstance(exc, UsageError):
        return problem(422, "invalid-request", exc.message, hint=exc.hint)
    if isinstance(exc, SigningRefused):
        return problem(403, "signing-refused", exc.message, hint=exc.hint)
    if isinstance(exc, OperationError):
        return problem(502, "operation-failed", exc.message, hint=exc.hint)
    if isinstance(exc, BaasError):
        return problem(500, "operation-failed", exc.message, hint=exc.hint)
    log.error("internal error", exc_info=exc)
    return problem(
        500,
        "internal-error",
        f"internal error ({type(exc).__name__})",
        hint="the server log has the details; please report it",
    )


def error_dict(exc: BaseException) -> dict[str, Any]:
    """What a failed job records of ``exc``: the body :func:`to_response` would send."""
    data: dict[str, Any] = json.loads(bytes(to_response(exc).body))
    return data


def _validation_path(loc: tuple[Any, ...] | list[Any]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _request_validation(exc: RequestValidationError) -> JSONResponse:
    diagnostics = [
        {
            "path": _validation_path(err.get("loc", ())),
            "message": str(err.get("msg", "invalid value")),
            "hint": "see the request schema at /docs",
        }
        for err in exc.errors()
    ]
    first = diagnostics[0] if diagnostics else None
    message = f"{first['path']}: {first['message']}" if first else "invalid request"
    return problem(
        422,
        "invalid-request",
        message,
        hint="see the request schema at /docs",
        diagnostics=diagnostics,
    )


def _allowed(request: Request) -> str:
    """Every method the API serves at the request's path, from the app's own OpenAPI paths
    (Starlette's 405 names only the first matching route's methods); a literal path
    (``/api/v1/networks/validate``) wins over a template that also matches it. Paths the
    schema leaves out (``/docs``) take their routes' own methods."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(
        request.app.state, "allow_table", None
    )
    if table is None:
        table = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"), {m.upper() for m in ops})
            for path, ops in request.app.openapi()["paths"].items()
        ]
        request.app.state.allow_table = table
    path = request.url.path
    exact = [m for pattern, m in table if pattern.pattern == f"^{path}$"]
    methods = set().union(*(exact or [m for pattern, m in table if pattern.match(path)]))
    if not methods:
        methods = {
            method
            for route in request.app.routes
            if isinstance(route, Route) and route.methods and route.path_regex.match(path)
            for method in route.methods
        }
    return ", ".join(sorted(methods))


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400:  # only FastAPI raises it: a body it could not decode
        return problem(
            422,
            "invalid-request",
            "body: not valid JSON",
            hint="send a JSON object as the request schema at /docs describes",
            diagnostics=[{"path": "body", "message": "not valid JSON"}],
        )
    codes = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated"}
    detail = exc.detail if isinstance(exc.detail, str) else "request refused"
    headers = dict(exc.headers) if exc.headers else {}
    hint = ""
    if exc.status_code == 405:
        headers["Allow"] = _allowed(request)
        hint = f"this path takes {headers['Allow']}"
    return problem(
        exc.status_code,
        codes.get(exc.status_code, "http-error"),
        detail,
        hint=hint,
        headers=headers or None,
    )


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        return to_response(exc)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return _request_validation(exc)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return _http_error(request, exc)

    for kind in (ApiError, TopologyError, BaasError, Exception):
        app.add_exception_handler(kind, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
