"""Sending an envelope to an orderer (``AtomicBroadcast.Broadcast``): config updates, which the
peers' Gateway does not forward."""

from __future__ import annotations

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.orderer import ab_pb2_grpc

from baas.fabric import errors
from baas.fabric.connection import Connections, NodeTarget

TIMEOUT = 30.0


_TRANSIENT = ("nodes are alive", "quorum loss", "no raft leader", "not ready")


def _transient(info: str) -> bool:
    """A refusal that passes once the ordering service settles: an orderer that just
    restarted does not yet know which of its peers are alive, and refuses consenter changes
    that would look like a quorum loss to it."""
    lowered = info.lower()
    return any(word in lowered for word in _TRANSIENT)


def broadcast(
    connections: Connections, target: NodeTarget, envelope: common_pb2.Envelope, *, action: str
) -> None:
    """Hand ``envelope`` to ``target``; raises ``FabricError`` with the orderer's status and
    message unless it answers SUCCESS (``retryable`` for SERVICE_UNAVAILABLE: no leader)."""
    stub = ab_pb2_grpc.AtomicBroadcastStub(connections.channel(target))
    try:
        responses = list(stub.Broadcast(iter([envelope]), timeout=TIMEOUT))
    except grpc.RpcError as exc:
        raise errors.from_rpc(exc, action=action, target=str(target)) from None
    if not responses:
        raise errors.FabricError(f"{action}: {target} closed the stream without an answer")
    response = responses[0]
    if response.status != common_pb2.Status.SUCCESS:
        name = common_pb2.Status.Name(response.status)
        raise errors.FabricError(
            f"{action} refused by {target}: {name}: {response.info}",
            hint="BAD_REQUEST usually means missing signatures or a stale update: re-run "
            "`baas up`; FORBIDDEN: the signers do not satisfy the channel's policies",
            retryable=response.status == common_pb2.Status.SERVICE_UNAVAILABLE
            or _transient(response.info),
        )
