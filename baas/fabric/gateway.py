"""A peer's Gateway service: evaluate, endorse, submit, and wait for the commit.

Admin transactions (chaincode approvals, commits, Init) are endorsed by exactly the peers baas
chooses and then handed to the Gateway, which forwards them to the ordering service
(:func:`submit`) and reports their validation code once the peer has committed them
(:func:`commit_status`) — the route hyperledger/fabric-admin-sdk takes, so baas never needs
its own connection to an orderer for a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2

from baas.fabric import errors, proposals
from baas.fabric.identity import SigningIdentity
from baas.fabric.peer import Peer

TIMEOUT = 60.0


@dataclass(frozen=True)
class Committed:
    """A transaction's outcome on the peer that reported it."""

    tx_id: str
    code: str
    """Fabric's ``TxValidationCode`` name: ``VALID``, ``ENDORSEMENT_POLICY_FAILURE``, …"""
    block: int

    @property
    def valid(self) -> bool:
        return self.code == "VALID"


def stub(peer: Peer) -> gateway_pb2_grpc.GatewayStub:
    return gateway_pb2_grpc.GatewayStub(peer.channel)


def _rpc_error(exc: grpc.RpcError, *, action: str, peer: Peer) -> errors.FabricError:
    error = errors.from_rpc(exc, action=action, target=str(peer.target))
    details = _error_details(exc)
    if details:
        error.message += "; " + details
    return error


def _error_details(exc: grpc.RpcError) -> str:
    """The per-node messages of a Gateway error: the ``gateway.ErrorDetail`` entries of the
    ``google.rpc.Status`` in the call's ``grpc-status-details-bin`` trailer ("" when absent)."""
    if not isinstance(exc, grpc.Call):
        return ""
    raw = next(
        (v for k, v in (exc.trailing_metadata() or ()) if k == "grpc-status-details-bin"), None
    )
    if not isinstance(raw, bytes):
        return ""
    found = []
    for any_bytes in _fields(raw, 3):  # google.rpc.Status.details: repeated Any
        values = _fields(any_bytes, 2)  # Any.value
        if values:
            info = gateway_pb2.ErrorDetail.FromString(values[0])
            found.append(f"{info.address} ({info.msp_id}): {info.message}")
    return "; ".join(found)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes, number: int) -> list[bytes]:
    """The length-delimited fields numbered ``number`` of a serialised protobuf message."""
    found, pos = [], 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        kind = key & 7
        if kind == 0:
            _, pos = _varint(data, pos)
        elif kind == 1:
            pos += 8
        elif kind == 5:
            pos += 4
        elif kind == 2:
            size, pos = _varint(data, pos)
            if key >> 3 == number:
                found.append(data[pos : pos + size])
            pos += size
        else:
            break
    return found


def submit(peer: Peer, envelope: common_pb2.Envelope, *, tx_id: str, channel: str) -> None:
    """Hand a signed transaction to the Gateway for ordering."""
    request = gateway_pb2.SubmitRequest(
        transaction_id=tx_id, channel_id=channel, prepared_transaction=envelope
    )
    try:
        stub(peer).Submit(request, timeout=TIMEOUT)
    except grpc.RpcError as exc:
        raise _rpc_error(exc, action=f"submit {tx_id[:12]}… on {channel}", peer=peer) from None


def commit_status(
    peer: Peer, identity: SigningIdentity, *, tx_id: str, channel: str, timeout: float = TIMEOUT
) -> Committed:
    """Wait until ``peer`` has committed ``tx_id`` and return its validation code."""
    request = gateway_pb2.CommitStatusRequest(
        transaction_id=tx_id, channel_id=channel, identity=identity.serialize()
    ).SerializeToString()
    signed = gateway_pb2.SignedCommitStatusRequest(
        request=request, signature=identity.sign(request)
    )
    try:
        response = stub(peer).CommitStatus(signed, timeout=timeout)
    except grpc.RpcError as exc:
        raise _rpc_error(exc, action=f"wait for {tx_id[:12]}… on {channel}", peer=peer) from None
    code = transaction_pb2.TxValidationCode.Name(response.result)
    return Committed(tx_id=tx_id, code=code, block=response.block_number)


def _refuse_divergent(endorsements: list[object], *, action: str) -> None:
    """Raise a retryable ``FabricError`` when the endorsing peers simulated different results:
    almost always one peer has not received the latest block yet (so it read older versions),
    which waiting cures; a chaincode that is not deterministic never converges."""
    payloads = {getattr(e, "payload", None) for e in endorsements}
    if len(payloads) > 1:
        raise errors.FabricError(
            f"{action}: the {len(endorsements)} endorsing peers returned different results",
            hint="one peer is probably a block behind the others: re-run in a moment; if it "
            "persists, the chaincode is not deterministic (clocks, random values, map order)",
            retryable=True,
        )


def submit_and_wait(
    peer: Peer,
    identity: SigningIdentity,
    proposal: proposals.Proposal,
    endorsements: list[object],
    *,
    action: str,
    timeout: float = TIMEOUT,
) -> Committed:
    """Assemble the transaction from ``endorsements`` (``ProposalResponse`` messages), submit it
    through ``peer`` and wait for its commit there; raises ``FabricError`` unless VALID."""
    _refuse_divergent(endorsements, action=action)
    envelope = proposals.transaction_envelope(identity, proposal, endorsements)
    submit(peer, envelope, tx_id=proposal.tx_id, channel=proposal.channel)
    result = commit_status(
        peer, identity, tx_id=proposal.tx_id, channel=proposal.channel, timeout=timeout
    )
    if not result.valid:
        raise errors.FabricError(
            f"{action}: transaction {proposal.tx_id[:12]}… was committed as {result.code}",
            hint="MVCC_READ_CONFLICT means a concurrent change: re-run; "
            "ENDORSEMENT_POLICY_FAILURE means too few organisations endorsed",
        )
    return result


def evaluate(
    peer: Peer,
    proposal: proposals.Proposal,
    *,
    target_orgs: list[str] | None = None,
    timeout: float = TIMEOUT,
) -> bytes:
    """Run a query through the Gateway and return the chaincode's response payload."""
    request = gateway_pb2.EvaluateRequest(
        transaction_id=proposal.tx_id,
        channel_id=proposal.channel,
        proposed_transaction=proposal.signed,
        target_organizations=target_orgs or [],
    )
    try:
        response = stub(peer).Evaluate(request, timeout=timeout)
    except grpc.RpcError as exc:
        raise _rpc_error(
            exc, action=f"evaluate {proposal.chaincode} on {proposal.channel}", peer=peer
        ) from None
    return response.result.payload  # type: ignore[no-any-return]


def endorse(
    peer: Peer,
    identity: SigningIdentity,
    proposal: proposals.Proposal,
    *,
    endorsing_orgs: list[str] | None = None,
    timeout: float = TIMEOUT,
) -> common_pb2.Envelope:
    """Have the Gateway collect endorsements (from ``endorsing_orgs`` when given, else as the
    chaincode's policy requires) and return the transaction, signed by ``identity``."""
    request = gateway_pb2.EndorseRequest(
        transaction_id=proposal.tx_id,
        channel_id=proposal.channel,
        proposed_transaction=proposal.signed,
        endorsing_organizations=endorsing_orgs or [],
    )
    try:
        response = stub(peer).Endorse(request, timeout=timeout)
    except grpc.RpcError as exc:
        raise _rpc_error(
            exc, action=f"endorse {proposal.chaincode} on {proposal.channel}", peer=peer
        ) from None
    envelope = response.prepared_transaction
    envelope.signature = identity.sign(envelope.payload)
    return envelope


def chaincode_result(envelope: common_pb2.Envelope) -> bytes:
    """The chaincode's response payload inside an endorsed transaction."""
    payload = common_pb2.Payload.FromString(envelope.payload)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    action = transaction_pb2.ChaincodeActionPayload.FromString(transaction.actions[0].payload)
    response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
        action.action.proposal_response_payload
    )
    cc_action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
    return cc_action.response.payload  # type: ignore[no-any-return]
