"""No absolute server path in an API response: the one place that keeps them out.

The services the API calls speak in paths of the machine they run on (a certificate's file,
the PKI root, the chaincode folder in a diagnostic, a progress line of ``up``). A caller needs
the part that means something to it, not the server's layout: :class:`ServerPaths` rewrites
every JSON and Server-Sent-Events body on its way out, so that a path under ``$BAAS_HOME``
reads ``$BAAS_HOME/networks/…`` and one under the source folder reads relative to it
(``chaincode/asset-transfer``). Other bodies (the Swagger UI page and its assets) pass as
they are.

Rewriting is textual, on the JSON-encoded form of each prefix, longest prefix first, and
skips a prefix of fewer than two path components (a server started with ``--source-dir /``
keeps its paths rather than have every slash rewritten).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REWRITTEN = (b"application/json", b"application/problem+json", b"text/event-stream")


@dataclass(frozen=True)
class Shown:
    """How paths are shown: each ``(prefix, replacement)``, longest prefix first."""

    pairs: tuple[tuple[bytes, bytes], ...]

    @classmethod
    def of(cls, *, home: Path, source_dir: Path) -> Shown:
        """Paths under ``home`` as ``$BAAS_HOME/…``, under ``source_dir`` relative to it
        (both also as given, when a link makes them differ from their resolved form)."""
        pairs: list[tuple[str, str]] = []
        for folder, shown in ((home, "$BAAS_HOME"), (source_dir, "")):
            for form in dict.fromkeys([str(folder.resolve()), str(folder.absolute())]):
                if len(Path(form).parts) < 3:
                    continue
                pairs.append((form + "/", f"{shown}/" if shown else ""))
                pairs.append((form, shown or "."))
        pairs.sort(key=lambda p: len(p[0]), reverse=True)
        return cls(tuple((_encoded(a), _encoded(b)) for a, b in pairs))

    def text(self, body: bytes) -> bytes:
        """``body`` with every prefix replaced."""
        for prefix, replacement in self.pairs:
            if prefix in body:
                body = body.replace(prefix, replacement)
        return body


def _encoded(text: str) -> bytes:
    """``text`` as it appears inside a JSON string."""
    return json.dumps(text)[1:-1].encode()


def _rewritten(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    for key, value in headers:
        if key.lower() == b"content-type":
            return value.split(b";", 1)[0].strip().lower() in REWRITTEN
    return False


def _without_length(start: Message) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in start.get("headers", ()) if k.lower() != b"content-length"]


class ServerPaths:
    """The ASGI layer that applies :class:`Shown` to every JSON and SSE response body (a
    whole body is rewritten at once, a streamed one chunk by chunk: each SSE frame is sent as
    one chunk). ``Content-Length`` is recomputed for whole bodies."""

    def __init__(self, app: ASGIApp, *, shown: Shown) -> None:
        self.app = app
        self.shown = shown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.shown.pairs:
            await self.app(scope, receive, send)
            return
        start: Message | None = None  # the head of a body still to rewrite
        streaming = False

        async def rewrite(message: Message) -> None:
            nonlocal start, streaming
            if message["type"] == "http.response.start":
                if _rewritten(message.get("headers", ())):
                    start = message
                else:
                    await send(message)
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body = self.shown.text(message.get("body", b""))
            more = bool(message.get("more_body", False))
            if not streaming and not more:
                await self._send_whole(send, start, body)
                return
            if not streaming:  # the head once, without a length
                streaming = True
                await send({**start, "headers": _without_length(start)})
            await send({**message, "body": body})

        await self.app(scope, receive, rewrite)

    @staticmethod
    async def _send_whole(send: Send, start: Message, body: bytes) -> None:
        headers = [*_without_length(start), (b"content-length", str(len(body)).encode())]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
