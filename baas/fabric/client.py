"""The Gateway client: a chaincode as an application sees it, through one peer's Gateway.

:class:`Contract` evaluates, endorses (letting the Gateway choose endorsers from the policy, or
naming the organisations), submits, waits for the commit status and reads chaincode events —
the calls of hyperledger/fabric-gateway's SDKs, over :mod:`baas.fabric.gateway`. Smoke checks,
the load probe and the REST API use it; the admin steps (lifecycle, Init) endorse on chosen
peers instead (:mod:`baas.fabric.transactions`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import grpc
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2

from baas.fabric import errors, gateway, proposals
from baas.fabric.identity import SigningIdentity
from baas.fabric.peer import Peer


@dataclass(frozen=True)
class Submitted:
    """A transaction handed to the orderers: its ID and the chaincode's result."""

    tx_id: str
    result: bytes


@dataclass(frozen=True)
class Outcome:
    """A committed transaction: result, validation code (``VALID``, …), block, and seconds
    from the start of endorsement to the commit status."""

    tx_id: str
    result: bytes
    code: str
    block: int
    seconds: float

    @property
    def valid(self) -> bool:
        return self.code == "VALID"


@dataclass(frozen=True)
class ChaincodeEvent:
    tx_id: str
    name: str
    payload: bytes
    block: int


def _encode(args: Sequence[str | bytes]) -> list[bytes]:
    return [a.encode() if isinstance(a, str) else a for a in args]


class Contract:
    """``chaincode`` on ``channel``, called as ``identity`` through ``peer``'s Gateway."""

    def __init__(
        self, peer: Peer, identity: SigningIdentity, *, channel: str, chaincode: str
    ) -> None:
        self.peer = peer
        self.identity = identity
        self.channel = channel
        self.chaincode = chaincode

    def _proposal(
        self,
        function: str,
        args: Sequence[str | bytes],
        transient: Mapping[str, bytes] | None = None,
    ) -> proposals.Proposal:
        return proposals.chaincode_proposal(
            self.identity,
            channel=self.channel,
            chaincode=self.chaincode,
            args=[function.encode(), *_encode(args)],
            transient=dict(transient or {}),
        )

    def evaluate(
        self,
        function: str,
        *args: str | bytes,
        target_orgs: Sequence[str] = (),
        transient: Mapping[str, bytes] | None = None,
    ) -> bytes:
        """The chaincode's answer to a query (nothing is ordered). ``transient``: data the
        chaincode reads with ``GetTransient`` and that is never written to the ledger (the
        Gateway then evaluates on its own organisation's peers unless ``target_orgs`` says
        otherwise)."""
        return gateway.evaluate(
            self.peer, self._proposal(function, args, transient), target_orgs=list(target_orgs)
        )

    def submit_async(
        self,
        function: str,
        *args: str | bytes,
        endorsing_orgs: Sequence[str] = (),
        transient: Mapping[str, bytes] | None = None,
    ) -> Submitted:
        """Endorse (by ``endorsing_orgs`` when given, else as the Gateway plans from the
        chaincode's policy) and hand the transaction to the orderers; does not wait.
        ``transient`` goes to the endorsers only (private data values): the transaction the
        orderers see leaves it out, and with it and no ``endorsing_orgs`` the Gateway picks
        endorsers only from the organisations of the collections written."""
        proposal = self._proposal(function, args, transient)
        envelope = gateway.endorse(
            self.peer, self.identity, proposal, endorsing_orgs=list(endorsing_orgs)
        )
        gateway.submit(self.peer, envelope, tx_id=proposal.tx_id, channel=self.channel)
        return Submitted(proposal.tx_id, gateway.chaincode_result(envelope))

    def commit_status(self, tx_id: str, *, timeout: float = gateway.TIMEOUT) -> gateway.Committed:
        return gateway.commit_status(
            self.peer, self.identity, tx_id=tx_id, channel=self.channel, timeout=timeout
        )

    def submit(
        self,
        function: str,
        *args: str | bytes,
        endorsing_orgs: Sequence[str] = (),
        timeout: float = gateway.TIMEOUT,
        transient: Mapping[str, bytes] | None = None,
    ) -> Outcome:
        """Endorse, submit and wait for the commit status; returns the outcome whatever the
        validation code (check :attr:`Outcome.valid`). Raises ``FabricError`` when endorsement
        or submission fails. ``transient``: as for :meth:`submit_async`."""
        start = time.monotonic()
        sent = self.submit_async(
            function, *args, endorsing_orgs=endorsing_orgs, transient=transient
        )
        status = self.commit_status(sent.tx_id, timeout=timeout)
        return Outcome(sent.tx_id, sent.result, status.code, status.block, time.monotonic() - start)

    def events(
        self, *, start_block: int | None = None, timeout: float = 30.0
    ) -> Iterator[ChaincodeEvent]:
        """Chaincode events from ``start_block`` (default: the next block) on, as the peer
        commits them; the stream ends after ``timeout`` seconds."""
        position = (
            ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=start_block))
            if start_block is not None
            else ab_pb2.SeekPosition(next_commit=ab_pb2.SeekNextCommit())
        )
        request = gateway_pb2.ChaincodeEventsRequest(
            channel_id=self.channel,
            chaincode_id=self.chaincode,
            identity=self.identity.serialize(),
            start_position=position,
        ).SerializeToString()
        signed = gateway_pb2.SignedChaincodeEventsRequest(
            request=request, signature=self.identity.sign(request)
        )
        stub = gateway.stub(self.peer)
        try:
            for response in stub.ChaincodeEvents(signed, timeout=timeout):
                for event in response.events:
                    yield ChaincodeEvent(
                        event.tx_id, event.event_name, event.payload, response.block_number
                    )
        except grpc.RpcError as exc:
            if isinstance(exc, grpc.Call) and exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return
            raise errors.from_rpc(
                exc,
                action=f"read events of {self.chaincode} on {self.channel}",
                target=str(self.peer.target),
            ) from None
