"""Connections to Fabric nodes: gRPC channels over TLS, one per node, reused.

A :class:`NodeTarget` says where a node listens and which TLS CA signs its certificate;
:class:`Connections` opens (and caches) a channel per target and closes them all at the end
(use it as a context manager).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import TracebackType

import grpc

from baas.fabric.identity import TLSClient

MAX_MESSAGE = 100 * 1024 * 1024


@dataclass(frozen=True)
class NodeTarget:
    """``name`` (the node's FQDN, for messages), ``address`` (``host:port``), the PEM of the TLS
    CA that issued the node's server certificate, and ``server_name`` when the dialled host is
    not one the certificate names."""

    name: str
    address: str
    tls_ca_pem: bytes = field(repr=False)
    server_name: str | None = None

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"


class Connections:
    """A cache of gRPC channels, one per node address; thread-safe."""

    def __init__(self, *, tls_client: TLSClient | None = None) -> None:
        self._tls_client = tls_client
        self._channels: dict[tuple[str, str | None], grpc.Channel] = {}
        self._lock = threading.Lock()

    def channel(self, target: NodeTarget) -> grpc.Channel:
        """The (cached) channel to ``target``; connects lazily."""
        key = (target.address, target.server_name)
        with self._lock:
            found = self._channels.get(key)
            if found is None:
                found = self._open(target)
                self._channels[key] = found
            return found

    def _open(self, target: NodeTarget) -> grpc.Channel:
        client = self._tls_client
        credentials = grpc.ssl_channel_credentials(
            root_certificates=target.tls_ca_pem,
            private_key=client.key_pem if client else None,
            certificate_chain=client.cert_pem if client else None,
        )
        options: list[tuple[str, int | str]] = [
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.keepalive_time_ms", 60_000),
        ]
        if target.server_name:
            options.append(("grpc.ssl_target_name_override", target.server_name))
        return grpc.secure_channel(target.address, credentials, options=options)

    def close(self) -> None:
        with self._lock:
            channels = list(self._channels.values())
            self._channels.clear()
        for channel in channels:
            channel.close()

    def __enter__(self) -> Connections:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
