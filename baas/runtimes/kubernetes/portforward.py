"""Port-forwarding through the Kubernetes API server: how baas's admin client reaches pods.

A :class:`PortForwarder` opens a listener on ``127.0.0.1`` per pod port it is asked for and
forwards every connection accepted there to that port of the pod, over the API server's
``pods/portforward`` subresource (a WebSocket per connection, as ``kubectl port-forward``
does). Why this route, and not an admin Job inside the cluster:

* the same Python admin client runs the channel, chaincode and config-update steps on every
  target, from the machine that holds the PKI tree — no admin keys are copied into the cluster
  and no toolbox image has to exist for the Fabric release;
* the connection enters the pod's own network namespace, so NetworkPolicies do not see it;
  what grants it is the cluster's RBAC alone (``create`` on ``pods/portforward`` in the
  organisation's namespace), which is what an admin route that bypasses policies must be.

Each node certificate names ``127.0.0.1`` (:attr:`baas.plan.NodePlan.sans`), so TLS is
verified exactly as in the cluster. A failed forward (pod gone, RBAC refusal) closes the local
connection — gRPC then reports UNAVAILABLE, which the admin client retries — and is kept as
:attr:`PortForwarder.last_error` for messages. Threads are daemons; :meth:`close` stops the
listeners (open streams end with their connections).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from baas.addressing import Endpoint

LOCALHOST = "127.0.0.1"
CHUNK = 256 * 1024


@dataclass(frozen=True, order=True)
class PodPort:
    """Port ``port`` of pod ``pod`` in ``namespace``."""

    namespace: str
    pod: str
    port: int

    def __str__(self) -> str:
        return f"{self.namespace}/{self.pod}:{self.port}"


class PortForwarder:
    """Local endpoints for pod ports, opened on first use and cached; thread-safe.

    ``api`` is a ``kubernetes.client.ApiClient``. Use as a context manager, or call
    :meth:`close`."""

    def __init__(self, api: Any) -> None:
        # Each stream gets its own ApiClient: kubernetes.stream swaps the client's ``request``
        # method for the WebSocket call while it connects, so sharing ``api`` with REST calls
        # on other threads would send those through the port-forward handshake.
        self._configuration = api.configuration
        self._listeners: dict[PodPort, socket.socket] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.last_error: str = ""

    def endpoint(self, target: PodPort) -> Endpoint:
        """The local endpoint that reaches ``target`` (a new listener the first time)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the port forwarder is closed")
            listener = self._listeners.get(target)
            if listener is None:
                listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind((LOCALHOST, 0))
                listener.listen(64)
                self._listeners[target] = listener
                threading.Thread(
                    target=self._accept,
                    args=(listener, target),
                    name=f"port-forward {target}",
                    daemon=True,
                ).start()
            return Endpoint(LOCALHOST, listener.getsockname()[1])

    def _accept(self, listener: socket.socket, target: PodPort) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed
            threading.Thread(
                target=self._serve, args=(conn, target), name=f"stream {target}", daemon=True
            ).start()

    def _open_stream(self, target: PodPort) -> Any:
        from kubernetes import client
        from kubernetes.stream import portforward

        api = client.ApiClient(self._configuration)
        try:  # the WebSocket outlives the client, which only made the handshake
            return portforward(
                client.CoreV1Api(api).connect_get_namespaced_pod_portforward,
                target.pod,
                target.namespace,
                ports=str(target.port),
            )
        finally:
            api.close()

    def _serve(self, conn: socket.socket, target: PodPort) -> None:
        try:
            forward = self._open_stream(target)
        except Exception as exc:  # the API server's refusal: reported, connection closed
            self.last_error = f"port-forward to {target} failed: {_reason(exc)}"
            conn.close()
            return
        remote = forward.socket(target.port)
        pump = threading.Thread(target=_pump, args=(remote, conn), daemon=True)
        pump.start()
        _pump(conn, remote)
        pump.join()
        error = forward.error(target.port)
        if error:
            self.last_error = f"port-forward to {target}: {error.strip()}"
        with contextlib.suppress(Exception):
            forward.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            listeners = list(self._listeners.values())
            self._listeners.clear()
        for listener in listeners:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def __enter__(self) -> PortForwarder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _pump(source: Any, sink: Any) -> None:
    """Copy bytes from ``source`` to ``sink`` until ``source`` ends, then half-close ``sink``."""
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


_STATUS_LINE = re.compile(r"Handshake status (\d{3}) ([^\r\n-]*)")
_SEPARATOR = "-+-+-"
"""websocket-client's separator of status line, headers and body in a handshake error."""


def _status_message(text: str) -> str:
    """The ``message`` of the Kubernetes ``Status`` body that ends a WebSocket handshake
    error (``Handshake status 404 Not Found -+-+- {headers} -+-+- {"kind":"Status",…}``), or
    ``""``."""
    if _SEPARATOR not in text:
        return ""
    body = text.rsplit(_SEPARATOR, 1)[1].strip()
    try:
        status = json.loads(body)
    except ValueError:
        return ""
    return str(status.get("message", "")) if isinstance(status, dict) else ""


def _reason(exc: Exception) -> str:
    """The API server's own words for a refused forward: the Kubernetes ``Status`` message
    inside the WebSocket handshake error (``pods "x" not found``, ``forbidden: …``), with its
    HTTP status when known — never the raw headers."""
    text = str(getattr(exc, "reason", None) or exc)
    message = _status_message(text)
    status = _STATUS_LINE.search(text)
    if message:
        return f"HTTP {status.group(1)}: {message}" if status else message
    if status:
        return f"HTTP {status.group(1)} {status.group(2).strip()}"
    return text.splitlines()[0][:300] if text else type(exc).__name__
