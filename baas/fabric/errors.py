"""The one place where failures reported by Fabric become :class:`baas.errors.OperationError`.

Every message names what was being done and on which node, carries Fabric's own words, and
says what to try. ``retryable`` tells callers whether waiting and trying again can help
(a node still starting, no Raft leader yet), or whether the request itself was refused.
"""

from __future__ import annotations

import grpc

from baas.errors import OperationError

_RETRYABLE_CODES = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
_RETRYABLE_WORDS = (
    "no raft leader",
    "not ready",
    "service unavailable",
    "connection refused",
    "failed to connect",
    "cannot determine leader",
    "retry",
)


class FabricError(OperationError):
    """Fabric refused or failed an operation. ``retryable`` is True when the same request may
    succeed later (node starting, leader election in progress)."""

    def __init__(self, message: str, *, hint: str = "", retryable: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.retryable = retryable


def looks_retryable(text: str) -> bool:
    """Whether Fabric's message ``text`` describes a transient condition."""
    lowered = text.lower()
    return any(word in lowered for word in _RETRYABLE_WORDS)


def from_rpc(error: grpc.RpcError, *, action: str, target: str) -> FabricError:
    """A :class:`FabricError` for a failed gRPC call: ``action`` (``"join peer0… to mychannel"``)
    on ``target`` (the node's name and address)."""
    code = error.code() if isinstance(error, grpc.Call) else None
    details = (error.details() if isinstance(error, grpc.Call) else None) or str(error)
    retryable = code in _RETRYABLE_CODES or looks_retryable(details)
    if code == grpc.StatusCode.UNAVAILABLE:
        hint = f"is {target} running? `baas status FILE` shows every node; `baas logs FILE NODE`"
    else:
        hint = "see the node's log (`baas logs FILE NODE`) for Fabric's side of the story"
    name = code.name if code is not None else "error"
    return FabricError(
        f"{action} failed on {target}: {name}: {details}", hint=hint, retryable=retryable
    )


def refused(*, action: str, target: str, status: int, message: str) -> FabricError:
    """A :class:`FabricError` for a Fabric response with a non-success ``status`` (a proposal
    response, a broadcast or deliver status, or an HTTP status)."""
    retryable = status in (0, 503) or looks_retryable(message)
    return FabricError(
        f"{action} refused by {target}: status {status}: {message}",
        hint="see the node's log (`baas logs FILE NODE`) for details",
        retryable=retryable,
    )
