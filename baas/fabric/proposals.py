"""Building and signing what Fabric reads: proposals, transactions, signed envelopes.

Follows Fabric's ``protoutil`` (and hyperledger/fabric-admin-sdk's proposal builder):

* transaction ID = hex SHA-256 of ``nonce || creator``;
* a proposal's header = ``ChannelHeader`` + ``SignatureHeader{creator, nonce}``;
* a transaction envelope carries the proposal header, the proposal payload *without* its
  transient map, and the endorsements, signed by the proposal's creator.

Pure: no I/O; the signing identity is the only input with a secret.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from fabric_protos.common import common_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2, proposal_response_pb2, transaction_pb2
from google.protobuf import timestamp_pb2

from baas.fabric.identity import SigningIdentity

NONCE_SIZE = 24


def nonce() -> bytes:
    return os.urandom(NONCE_SIZE)


def transaction_id(nonce_bytes: bytes, creator: bytes) -> str:
    """``hex(SHA-256(nonce || creator))`` (``protoutil.ComputeTxID``)."""
    return hashlib.sha256(nonce_bytes + creator).hexdigest()


def _now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    stamp.nanos = 0
    return stamp


def channel_header(
    *,
    header_type: int,
    channel: str,
    tx_id: str = "",
    extension: bytes = b"",
    tls_cert_hash: bytes = b"",
) -> bytes:
    return common_pb2.ChannelHeader(  # type: ignore[no-any-return]
        type=header_type,
        version=0,
        timestamp=_now(),
        channel_id=channel,
        tx_id=tx_id,
        epoch=0,
        extension=extension,
        tls_cert_hash=tls_cert_hash,
    ).SerializeToString()


def signature_header(creator: bytes, nonce_bytes: bytes) -> bytes:
    return common_pb2.SignatureHeader(  # type: ignore[no-any-return]
        creator=creator, nonce=nonce_bytes
    ).SerializeToString()


def signed_envelope(
    identity: SigningIdentity, *, header: bytes, data: bytes
) -> common_pb2.Envelope:
    """``Envelope{payload=Payload{header, data}, signature}``; ``header`` is a serialised
    ``common.Header``."""
    payload = common_pb2.Payload(
        header=common_pb2.Header.FromString(header), data=data
    ).SerializeToString()
    return common_pb2.Envelope(payload=payload, signature=identity.sign(payload))


def header(identity: SigningIdentity, *, header_type: int, channel: str) -> bytes:
    """A signed-by-``identity`` ``common.Header`` for a message that is not a proposal (seek
    requests, config updates), as bytes."""
    creator = identity.serialize()
    nonce_bytes = nonce()
    return common_pb2.Header(  # type: ignore[no-any-return]
        channel_header=channel_header(
            header_type=header_type,
            channel=channel,
            tx_id=transaction_id(nonce_bytes, creator),
        ),
        signature_header=signature_header(creator, nonce_bytes),
    ).SerializeToString()


@dataclass(frozen=True)
class Proposal:
    """A chaincode proposal before and after signing. ``tx_id`` names the transaction it
    becomes; ``signed`` is what endorsers receive."""

    tx_id: str
    channel: str
    chaincode: str
    proposal: proposal_pb2.Proposal = field(repr=False)
    signed: proposal_pb2.SignedProposal = field(repr=False)


def chaincode_proposal(
    identity: SigningIdentity,
    *,
    channel: str,
    chaincode: str,
    args: Sequence[bytes],
    header_type: int = common_pb2.HeaderType.ENDORSER_TRANSACTION,
    is_init: bool = False,
    transient: dict[str, bytes] | None = None,
) -> Proposal:
    """A signed proposal invoking ``chaincode`` on ``channel`` (``""`` for system chaincodes
    that act on the peer itself: ``cscc`` joins, ``_lifecycle`` installs) with ``args``."""
    creator = identity.serialize()
    nonce_bytes = nonce()
    tx_id = transaction_id(nonce_bytes, creator)
    spec = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            type=chaincode_pb2.ChaincodeSpec.Type.GOLANG,
            chaincode_id=chaincode_pb2.ChaincodeID(name=chaincode),
            input=chaincode_pb2.ChaincodeInput(args=list(args), is_init=is_init),
        )
    )
    extension = proposal_pb2.ChaincodeHeaderExtension(
        chaincode_id=chaincode_pb2.ChaincodeID(name=chaincode)
    ).SerializeToString()
    hdr = common_pb2.Header(
        channel_header=channel_header(
            header_type=header_type, channel=channel, tx_id=tx_id, extension=extension
        ),
        signature_header=signature_header(creator, nonce_bytes),
    )
    payload = proposal_pb2.ChaincodeProposalPayload(
        input=spec.SerializeToString(), TransientMap=transient or {}
    )
    proposal = proposal_pb2.Proposal(
        header=hdr.SerializeToString(), payload=payload.SerializeToString()
    )
    proposal_bytes = proposal.SerializeToString()
    signed = proposal_pb2.SignedProposal(
        proposal_bytes=proposal_bytes, signature=identity.sign(proposal_bytes)
    )
    return Proposal(tx_id, channel, chaincode, proposal, signed)


def transaction_envelope(
    identity: SigningIdentity,
    proposal: Proposal,
    responses: Sequence[proposal_response_pb2.ProposalResponse],
) -> common_pb2.Envelope:
    """The transaction for the orderer: ``proposal``'s header, its payload without the
    transient map, and the endorsements of ``responses`` (whose payloads must be identical —
    raises ``ValueError`` otherwise, as Fabric's ``CreateSignedTx`` does)."""
    if not responses:
        raise ValueError("a transaction needs at least one endorsement")
    payload = responses[0].payload
    if any(r.payload != payload for r in responses[1:]):
        raise ValueError("the endorsing peers returned different results (non-deterministic?)")
    hdr = common_pb2.Header.FromString(proposal.proposal.header)
    original = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.proposal.payload)
    stripped = proposal_pb2.ChaincodeProposalPayload(input=original.input)
    action_payload = transaction_pb2.ChaincodeActionPayload(
        chaincode_proposal_payload=stripped.SerializeToString(),
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=payload,
            endorsements=[r.endorsement for r in responses],
        ),
    )
    transaction = transaction_pb2.Transaction(
        actions=[
            transaction_pb2.TransactionAction(
                header=hdr.signature_header, payload=action_payload.SerializeToString()
            )
        ]
    )
    return signed_envelope(
        identity, header=hdr.SerializeToString(), data=transaction.SerializeToString()
    )
