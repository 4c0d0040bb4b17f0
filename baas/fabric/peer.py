"""A peer's endorser and its channel administration (the ``cscc`` system chaincode).

:meth:`Peer.endorse` sends a signed proposal and returns the endorsement, raising a
:class:`~baas.fabric.errors.FabricError` with the peer's own message when the proposal fails.
"""

from __future__ import annotations

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.peer import peer_pb2_grpc, proposal_response_pb2, query_pb2

from baas.fabric import errors, proposals
from baas.fabric.connection import Connections, NodeTarget
from baas.fabric.identity import SigningIdentity

TIMEOUT = 60.0


class Peer:
    """One peer, reached through a shared :class:`Connections`."""

    def __init__(self, target: NodeTarget, connections: Connections) -> None:
        self.target = target
        self._connections = connections

    @property
    def channel(self) -> grpc.Channel:
        return self._connections.channel(self.target)

    def endorse(
        self, proposal: proposals.Proposal, *, action: str, timeout: float = TIMEOUT
    ) -> proposal_response_pb2.ProposalResponse:
        """The peer's response to ``proposal``; raises ``FabricError`` unless its status is
        below 400 (``action`` describes the step in messages)."""
        stub = peer_pb2_grpc.EndorserStub(self.channel)
        try:
            response = stub.ProcessProposal(proposal.signed, timeout=timeout)
        except grpc.RpcError as exc:
            raise errors.from_rpc(exc, action=action, target=str(self.target)) from None
        status = response.response.status
        if status >= 400:
            raise errors.refused(
                action=action,
                target=str(self.target),
                status=status,
                message=response.response.message,
            )
        return response

    def join(self, admin: SigningIdentity, genesis_block: bytes, *, channel: str) -> None:
        """Join the peer to the channel whose genesis (or a later config) block is given; signed
        by an admin of the peer's organisation."""
        proposal = proposals.chaincode_proposal(
            admin,
            channel="",
            chaincode="cscc",
            args=[b"JoinChain", genesis_block],
            header_type=common_pb2.HeaderType.CONFIG,
        )
        self.endorse(proposal, action=f"join {self.target.name} to channel {channel}")

    def channels(self, admin: SigningIdentity) -> list[str]:
        """Channels the peer has joined (sorted)."""
        proposal = proposals.chaincode_proposal(
            admin, channel="", chaincode="cscc", args=[b"GetChannels"]
        )
        response = self.endorse(proposal, action=f"list the channels of {self.target.name}")
        result = query_pb2.ChannelQueryResponse.FromString(response.response.payload)
        return sorted(c.channel_id for c in result.channels)
