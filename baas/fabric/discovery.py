"""Fabric's discovery service: which peers can endorse a chaincode, as one peer sees it.

A peer's Gateway picks endorsers from the same computation (peers known through gossip to
be on the channel with the chaincode installed, grouped to satisfy its endorsement policy),
so when :func:`endorsement_layouts` answers on a peer, a Gateway submit through that peer
can be endorsed; while it raises "no peer combination can satisfy the endorsement policy",
the submit would fail the same way.

Discovery binds each request to the TLS session: the request carries the SHA-256 of the
client's TLS certificate, so the peer is dialled with that certificate (a
:class:`~baas.fabric.connection.Connections` holding a ``tls_client``). Fabric 2.5.16 and
3.1.5 do not check the hash (``discovery.NewService`` never keeps its ``Config``, so its TLS
flag reads false); baas sends the right one all the same, as the protocol asks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fabric_protos.discovery import protocol_pb2, protocol_pb2_grpc
from fabric_protos.gossip import message_pb2
from fabric_protos.peer import proposal_response_pb2
from google.protobuf.message import DecodeError

from baas.fabric import errors
from baas.fabric.identity import SigningIdentity, TLSClient
from baas.fabric.peer import Peer

TIMEOUT = 10.0


@dataclass(frozen=True)
class Layout:
    """One way to satisfy the policy: how many endorsements each group must give, and the
    peers (by gossip endpoint) of each group."""

    quantities: dict[str, int]
    peers: dict[str, tuple[str, ...]]


def tls_cert_hash(tls: TLSClient) -> bytes:
    """The SHA-256 of the DER of ``tls``'s certificate, as the peer computes it from the
    TLS session."""
    cert = x509.load_pem_x509_certificate(tls.cert_pem)
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()


def endorsement_layouts(
    peer: Peer,
    identity: SigningIdentity,
    tls: TLSClient,
    *,
    channel: str,
    chaincode: str,
    timeout: float = TIMEOUT,
) -> list[Layout]:
    """The endorsement layouts ``peer`` computes for ``chaincode`` on ``channel``, asked as
    ``identity`` over a connection authenticated by ``tls``. Raises ``FabricError`` with the
    discovery service's own message when it cannot compute any; ``retryable`` unless the
    peer refused the caller ("access denied"): Fabric reports a policy no known peers satisfy
    yet only as "failed constructing descriptor for chaincodes", which gossip heals."""
    action = f"discover endorsers of {chaincode} on {channel}"
    request = protocol_pb2.Request(
        authentication=protocol_pb2.AuthInfo(
            client_identity=identity.serialize(), client_tls_cert_hash=tls_cert_hash(tls)
        ),
        queries=[
            protocol_pb2.Query(
                channel=channel,
                cc_query=protocol_pb2.ChaincodeQuery(
                    interests=[
                        proposal_response_pb2.ChaincodeInterest(
                            chaincodes=[proposal_response_pb2.ChaincodeCall(name=chaincode)]
                        )
                    ]
                ),
            )
        ],
    )
    payload = request.SerializeToString()
    signed = protocol_pb2.SignedRequest(payload=payload, signature=identity.sign(payload))
    try:
        response = protocol_pb2_grpc.DiscoveryStub(peer.channel).Discover(signed, timeout=timeout)
    except grpc.RpcError as exc:
        raise errors.from_rpc(exc, action=action, target=str(peer.target)) from None
    return _layouts(response, action=action, target=str(peer.target))


def _layouts(response: protocol_pb2.Response, *, action: str, target: str) -> list[Layout]:
    if not response.results:
        raise errors.FabricError(f"{action} failed on {target}: the peer returned no result")
    result = response.results[0]
    if result.HasField("error"):
        message = result.error.content
        raise errors.FabricError(
            f"{action} failed on {target}: {message}",
            hint="the peer has not learned through gossip of enough peers with the chaincode "
            "installed to satisfy its endorsement policy; check that every member organisation's "
            "peers are running (`baas status FILE`) and have the chaincode installed "
            "(`baas chaincode list FILE`)",
            retryable="access denied" not in message,
        )
    found: list[Layout] = []
    for descriptor in result.cc_query_res.content:
        peers = {
            group: tuple(_endpoint(p) for p in members.peers)
            for group, members in descriptor.endorsers_by_groups.items()
        }
        for layout in descriptor.layouts:
            found.append(Layout(quantities=dict(layout.quantities_by_group), peers=peers))
    return found


def _endpoint(peer: protocol_pb2.Peer) -> str:
    """A discovered peer's gossip endpoint (from its signed alive message)."""
    try:
        message = message_pb2.GossipMessage.FromString(peer.membership_info.payload)
    except DecodeError:  # a malformed entry names no endpoint
        return "?"
    return message.alive_msg.membership.endpoint or "?"
