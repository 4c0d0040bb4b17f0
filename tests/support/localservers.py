"""Local servers standing in for a Fabric node's *transport* in offline tests of baas's client.

* :class:`AdminServer` — an HTTPS server on ``127.0.0.1:0`` that demands a client certificate
  chaining to a given CA (as an orderer's channel participation API does), answers from a table
  of scripted replies and records every request it got.
* :class:`FailingGrpcServer` — a TLS gRPC server on ``127.0.0.1:0`` that answers every method
  with the scripted failure: status code, details and trailing metadata.

Both run real sockets, TLS and protocol stacks (``http.server`` + ``ssl``, ``grpcio``); only
the node's application logic is scripted. Use them as context managers.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import socket
import ssl
import threading
from collections.abc import Sequence
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: ``status`` and a JSON ``body`` (``None``: no body)."""

    status: int
    body: Any = None


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_subject: str


def multipart_parts(content_type: str, body: bytes) -> dict[str, tuple[str, bytes]]:
    """Form-data part name → (file name, content) of a ``multipart/form-data`` body."""
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    parts: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename() or ""
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes), part
        parts[name] = (filename, payload)
    return parts


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _subject(cert: Any) -> str:
    if not cert:
        return ""
    return ",".join(f"{k}={v}" for rdn in cert.get("subject", ()) for k, v in rdn)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(size) if size else b""
        peer_cert = (
            self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        )
        self.server.owner.record(
            Recorded(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                _subject(peer_cert),
            )
        )
        reply = self.server.owner.reply_for(self.command, self.path)
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads :attr:`AdminServer.requests` instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: AdminServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A refused TLS handshake is part of some tests; keep the output clean."""


@dataclass
class AdminServer:
    """HTTPS on 127.0.0.1 with mutual TLS: serves ``cert``/``key`` and requires a client
    certificate issued by ``client_ca``. ``routes`` maps ``(method, path)`` to a :class:`Reply`;
    anything else gets 404 ``{"error": "not found"}``, as the orderer answers."""

    cert: Path
    key: Path
    client_ca: Path
    routes: dict[tuple[str, str], Reply] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _server: _Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def reply_for(self, method: str, path: str) -> Reply:
        with self._lock:
            return self.routes.get((method, path), Reply(404, {"error": "not found"}))

    @property
    def address(self) -> str:
        assert self._server is not None, "not started"
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> AdminServer:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.cert), str(self.key))
        context.load_verify_locations(cafile=str(self.client_ca))
        context.verify_mode = ssl.CERT_REQUIRED
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()


@dataclass
class Failure:
    """What :class:`FailingGrpcServer` answers: gRPC status, details, trailing metadata."""

    code: grpc.StatusCode
    details: str
    trailing: Sequence[tuple[str, str | bytes]] = ()


class _AnyMethod(grpc.GenericRpcHandler):  # type: ignore[misc]
    def __init__(self, owner: FailingGrpcServer) -> None:
        self._owner = owner

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(self._fail)

    def _fail(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        failure = self._owner.failure
        self._owner.calls.append(context.peer())
        if failure.trailing:
            context.set_trailing_metadata(tuple(failure.trailing))
        context.abort(failure.code, failure.details)
        raise AssertionError("abort returns only by raising")


@dataclass
class FailingGrpcServer:
    """gRPC over TLS (``cert``/``key``) on 127.0.0.1, failing every unary call with
    :attr:`failure` (change it between calls). ``calls`` counts the calls it received."""

    cert: Path
    key: Path
    failure: Failure = field(default_factory=lambda: Failure(grpc.StatusCode.UNKNOWN, "unset"))
    calls: list[str] = field(default_factory=list)
    port: int = 0
    _server: grpc.Server | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> FailingGrpcServer:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        server.add_generic_rpc_handlers((_AnyMethod(self),))
        credentials = grpc.ssl_server_credentials([(self.key.read_bytes(), self.cert.read_bytes())])
        self.port = server.add_secure_port("127.0.0.1:0", credentials)
        server.start()
        self._server = server
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.stop(grace=None).wait()
