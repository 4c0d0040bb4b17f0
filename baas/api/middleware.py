"""The ASGI layers around the routes, outermost first:

* :class:`SecurityHeaders` — every HTTP response, whoever sends it (a route, an error
  handler, another layer's 401/413/422 problem, a stream, the docs page and its assets), gets
  ``X-Content-Type-Options: nosniff``, ``Cache-Control: no-store``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: no-referrer`` and a ``Content-Security-Policy`` that allows nothing but
  the server's own origin (:func:`content_security_policy`).
* :class:`AuditLog` — every call that is not a read (POST, PUT, PATCH, DELETE) is written to
  the audit log as it ends, before the last of its response is sent (so a response a client
  got is in the log, and a client's calls are in the order it made them): who (the token's
  id, role and organisation, or ``anonymous``), what (method, path and what the route added
  in ``request.state.audit``), when and the outcome (status). Consortium admins read it at
  ``GET /api/v1/audit``.
* :class:`BodyLimit` — a body over the limit gets 413 before any of it is parsed: at once from
  ``Content-Length``, else as soon as the chunks read pass the limit. The body read is kept in
  the scope for :class:`Idempotency`. A chaincode source upload (:data:`UPLOAD_PATH`) has the
  settings' larger ``max_upload_bytes``.
* :class:`Idempotency` — a POST with an ``Idempotency-Key`` header runs once per token and
  key: a repeat of a request that succeeded (2xx) gets the stored response again
  (``Idempotent-Replayed: true``); a repeat while the first runs gets 409; the same key with
  a different request gets 422. Keys are kept 24 hours; failed requests keep none.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baas.api import tokens
from baas.api.db.models import AuditRow, IdempotencyRow, now
from baas.api.errors import problem

READS = frozenset({"GET", "HEAD", "OPTIONS"})
BODY_KEY = "baas.body"
KEY_TTL = timedelta(hours=24)
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
UPLOAD_PATH = re.compile(r"/api/v1/networks/[^/]+/chaincode-sources")
"""The one route whose body (a chaincode source archive) may be larger than a topology."""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _ctx(scope: Scope) -> Any:
    return scope["app"].state.ctx


async def _send_problem(send: Send, status: int, code: str, message: str, hint: str) -> None:
    response = problem(status, code, message, hint=hint)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": bytes(response.body)})


SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
)


def content_security_policy(*, script_hashes: tuple[str, ...] = ()) -> str:
    """The one policy of every response: nothing loads unless it comes from the server itself
    (scripts, styles, images, fonts, fetches); no plugins, no framing, no ``<base>``, no form
    posts elsewhere. ``script_hashes`` (``sha256-…`` of inline scripts the server writes, such
    as the docs page's initialiser) are allowed besides ``'self'``; ``'unsafe-inline'`` and
    ``'unsafe-eval'`` never are. Images may also be ``data:`` URLs (Swagger UI's stylesheet
    draws its icons so); that loads nothing from anywhere."""
    scripts = " ".join(["'self'", *(f"'{h}'" for h in script_hashes)])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )


class SecurityHeaders:
    """Sets the security headers on every ``http.response.start`` that passes through,
    replacing any of the same name a route set (one value each, never two). Streams pass
    unchanged: only the start message is touched. WebSocket and lifespan scopes pass through.
    ``csp`` is the ``Content-Security-Policy`` value (default: :func:`content_security_policy`
    with no inline script)."""

    def __init__(self, app: ASGIApp, *, csp: str | None = None) -> None:
        self.app = app
        self.headers = [
            (name.encode(), value.encode())
            for name, value in (
                *SECURITY_HEADERS,
                ("content-security-policy", csp or content_security_policy()),
            )
        ]
        self.names = frozenset(name for name, _ in self.headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v) for k, v in message.get("headers", ()) if k.lower() not in self.names
                ]
                message = {**message, "headers": [*kept, *self.headers]}
            await send(message)

        await self.app(scope, receive, secure)


class AuditLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READS:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        status = 500
        written = False

        async def write() -> None:
            nonlocal written
            if not written:
                written = True
                await run_in_threadpool(self._write, scope, state, status)

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                await write()  # before the client can see the end (and send its next call)
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            await write()  # a call that ended without a response: status 500

    @staticmethod
    def _write(scope: Scope, state: dict[str, Any], status: int) -> None:
        principal = state.get("principal")
        outcome = (
            "ok"
            if status < 400
            else "denied"
            if status in (401, 403)
            else "rejected"
            if status < 500
            else "failed"
        )
        row = AuditRow(
            at=now(),
            actor=principal.token_id if principal else "anonymous",
            role=principal.role.value if principal else None,
            org=principal.org if principal else None,
            method=scope["method"],
            path=scope["path"],
            status=status,
            outcome=outcome,
            detail=dict(state.get("audit") or {}),
        )
        with _ctx(scope).db.session() as session:
            session.add(row)


class BodyLimit:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        chunked = "chunked" in (_header(scope, b"transfer-encoding") or "").lower()
        if length is None and not chunked:
            await self.app(scope, receive, send)
            return
        limit, hint = self.limit, "a topology is a few KiB; check you sent the right file"
        if UPLOAD_PATH.fullmatch(scope.get("path", "")):
            limit = max(limit, _ctx(scope).settings.max_upload_bytes)
            hint = "leave dependencies and build output (node_modules, target/) out of it"
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._too_large(send, limit, hint)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await self._too_large(send, limit, hint)
                return
            if not message.get("more_body", False):
                break
        scope[BODY_KEY] = bytes(body)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send, limit: int, hint: str) -> None:
        await _send_problem(
            send, 413, "body-too-large", f"the request body is over {limit} bytes", hint
        )


class Idempotency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if not _KEY.match(key):
            await _send_problem(
                send,
                422,
                "invalid-request",
                "header Idempotency-Key: 1 to 200 printable ASCII characters without spaces",
                "use a UUID",
            )
            return
        auth = _header(scope, b"authorization") or ""
        secret = auth[7:] if auth[:7].lower() == "bearer " else ""
        db = _ctx(scope).db
        if not secret or await run_in_threadpool(tokens.verify, db, secret) is None:
            await self.app(scope, receive, send)  # the route answers 401
            return
        scope_id = tokens.digest(secret)
        fingerprint = hashlib.sha256(
            b"\n".join(
                [
                    scope["method"].encode(),
                    scope["path"].encode(),
                    scope.get("query_string", b""),
                    scope.get(BODY_KEY, b""),
                ]
            )
        ).hexdigest()
        claimed, stored = await run_in_threadpool(_claim, db, scope_id, key, fingerprint)
        if not claimed:
            await _answer_repeat(send, stored, fingerprint)
            return
        await self._run_once(scope, receive, send, db, scope_id, key)

    async def _run_once(
        self, scope: Scope, receive: Receive, send: Send, db: Any, scope_id: str, key: str
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            status = int(start["status"]) if start else 500
            headers = {
                k.decode("latin-1"): v.decode("latin-1")
                for k, v in (start or {}).get("headers", [])
                if k.lower() in (b"content-type", b"location")
            }
            await run_in_threadpool(_settle, db, scope_id, key, status, headers, b"".join(chunks))


def _claim(
    db: Any, scope_id: str, key: str, fingerprint: str
) -> tuple[bool, IdempotencyRow | None]:
    """Record the key as pending: (True, None); (False, the stored row) when it is known."""
    with db.session() as session:
        session.execute(delete(IdempotencyRow).where(IdempotencyRow.created_at < now() - KEY_TTL))
    for _ in range(3):  # the first holder may forget a failed key between our two steps
        try:
            with db.session() as session:
                session.add(
                    IdempotencyRow(
                        scope=scope_id,
                        key=key,
                        fingerprint=fingerprint,
                        state="pending",
                        created_at=now(),
                    )
                )
            return True, None
        except IntegrityError:
            with db.session() as session:
                row = session.get(IdempotencyRow, (scope_id, key))
            if row is not None:
                return False, row
    return False, None


def _settle(
    db: Any, scope_id: str, key: str, status: int, headers: dict[str, str], body: bytes
) -> None:
    """Keep a 2xx response for replay; forget the key otherwise."""
    with db.session() as session:
        row = session.get(IdempotencyRow, (scope_id, key))
        if row is None:
            return
        if 200 <= status < 300:
            row.state, row.status, row.headers, row.body = "done", status, headers, body
        else:
            session.delete(row)


async def _answer_repeat(send: Send, row: IdempotencyRow | None, fingerprint: str) -> None:
    if row is not None and row.fingerprint != fingerprint:
        await _send_problem(
            send,
            422,
            "idempotency-key-reused",
            "this Idempotency-Key was used with a different request",
            "use a new key for a new request",
        )
        return
    if row is None or row.state != "done" or row.status is None:
        await _send_problem(
            send,
            409,
            "conflict",
            "a request with this Idempotency-Key is still running",
            "retry when it has finished",
        )
        return
    headers = [(k.encode(), v.encode()) for k, v in (row.headers or {}).items()]
    headers.append((b"idempotent-replayed", b"true"))
    body = row.body or b""
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": row.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
