"""An orderer's channel participation API (``/participation/v1/channels``), over HTTPS with
mutual TLS, the way ``osnadmin`` calls it (fabric.md §2.2).

The orderer authorises a caller by its TLS client certificate chaining to
``Admin.TLS.ClientRootCAs``; baas presents the orderer organisation admin's TLS client pair.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from baas.fabric import errors

API = "/participation/v1/channels"
TIMEOUT = 30.0


@dataclass(frozen=True)
class ChannelInfo:
    """What the orderer says about one channel it serves."""

    name: str
    status: str
    """``active``, ``onboarding``, ``inactive`` or ``failed``."""
    consensus_relation: str
    """``consenter``, ``follower``, ``config-tracker`` or ``other``."""
    height: int


@dataclass(frozen=True)
class AdminTarget:
    """``name`` (orderer FQDN), ``address`` (``host:port`` of its admin listener), the PEM file of
    its TLS CA, and the admin's TLS client certificate and key files."""

    name: str
    address: str
    tls_ca: Path
    client_cert: Path
    client_key: Path

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"


def _client(target: AdminTarget) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(target.tls_ca))
    context.load_cert_chain(str(target.client_cert), str(target.client_key))
    return httpx.Client(base_url=f"https://{target.address}", verify=context, timeout=TIMEOUT)


def _info(data: dict[str, Any]) -> ChannelInfo:
    return ChannelInfo(
        name=str(data.get("name", "")),
        status=str(data.get("status", "")),
        consensus_relation=str(data.get("consensusRelation", "")),
        height=int(data.get("height", 0)),
    )


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()
    return str(body.get("error", body)) if isinstance(body, dict) else str(body)


def _call(
    target: AdminTarget, action: str, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    try:
        with _client(target) as client:
            return client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        if _tls_failure(exc):
            raise errors.FabricError(
                f"{action} failed on {target}: TLS: {exc}",
                hint="the orderer's TLS CA or the admin's TLS client certificate does not "
                "match; re-run `baas pki generate FILE` and check the orderer's "
                "Admin.TLS.ClientRootCAs",
            ) from None
        raise errors.FabricError(
            f"{action} failed on {target}: {exc}",
            hint=f"is {target.name} running? `baas status FILE` shows every node",
            retryable=True,
        ) from None
    except ssl.SSLError as exc:
        raise errors.FabricError(f"{action} failed on {target}: TLS: {exc}") from None


_CERTIFICATE_WORDS = ("CERTIFICATE", "UNKNOWN_CA", "UNKNOWN CA", "BAD_CERT")


def _tls_failure(exc: BaseException) -> bool:
    """Whether a connection failed on a certificate (retrying cannot help) rather than on a
    node that is not listening yet or dropped the handshake while starting."""
    seen: BaseException | None = exc
    texts = []
    while seen is not None:
        texts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    text = " ".join(texts).upper()
    return "SSL" in text and any(word in text for word in _CERTIFICATE_WORDS)


def list_channels(target: AdminTarget) -> list[ChannelInfo]:
    """Every channel the orderer serves (sorted by name)."""
    response = _call(target, "list channels", "GET", API)
    if response.status_code != 200:
        raise errors.refused(
            action="list channels",
            target=str(target),
            status=response.status_code,
            message=_message(response),
        )
    channels = response.json().get("channels") or []
    found = [channel_info(target, str(c["name"])) for c in channels]
    return sorted((c for c in found if c is not None), key=lambda c: c.name)


def channel_info(target: AdminTarget, channel: str) -> ChannelInfo | None:
    """The orderer's view of ``channel``, or ``None`` when it has not joined it."""
    response = _call(target, f"read channel {channel}", "GET", f"{API}/{channel}")
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise errors.refused(
            action=f"read channel {channel}",
            target=str(target),
            status=response.status_code,
            message=_message(response),
        )
    return _info(response.json())


def join(target: AdminTarget, channel: str, config_block: bytes) -> ChannelInfo:
    """Join the orderer to ``channel`` with its genesis (or latest config) block.

    A refusal with a 4xx status is final and raised at once (``retryable`` False: the block or
    the caller's certificate is wrong, and repeating cannot help); 5xx and connection failures
    are ``retryable``."""
    action = f"join {target.name} to channel {channel}"
    files = {"config-block": ("config.block", config_block, "application/octet-stream")}
    response = _call(target, action, "POST", API, files=files)
    if response.status_code not in (200, 201):
        error = errors.refused(
            action=action,
            target=str(target),
            status=response.status_code,
            message=_message(response),
        )
        error.retryable = response.status_code >= 500
        raise error
    return _info(response.json())


def remove(target: AdminTarget, channel: str) -> bool:
    """Remove ``channel`` from the orderer; False when it was not joined."""
    action = f"remove channel {channel} from {target.name}"
    response = _call(target, action, "DELETE", f"{API}/{channel}")
    if response.status_code == 404:
        return False
    if response.status_code not in (200, 204):
        raise errors.refused(
            action=action,
            target=str(target),
            status=response.status_code,
            message=_message(response),
        )
    return True
