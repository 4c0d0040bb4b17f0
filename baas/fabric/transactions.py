"""Invoking chaincode as a client: endorse on chosen peers, submit through a Gateway, wait for
the commit; or query one peer. Used for chaincode Init and by every check that writes and reads
application data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from baas.fabric import gateway, proposals
from baas.fabric.identity import SigningIdentity
from baas.fabric.peer import Peer


@dataclass(frozen=True)
class Submitted:
    """A committed transaction: its ID, the block it landed in, and the chaincode's result."""

    tx_id: str
    block: int
    result: bytes


def _args(function: str | None, args: Sequence[str | bytes]) -> list[bytes]:
    head = [function.encode()] if function is not None else []
    return head + [a.encode() if isinstance(a, str) else a for a in args]


def submit(
    endorsers: Sequence[Peer],
    identity: SigningIdentity,
    *,
    channel: str,
    chaincode: str,
    function: str | None,
    args: Sequence[str | bytes] = (),
    is_init: bool = False,
    timeout: float = gateway.TIMEOUT,
) -> Submitted:
    """Endorse on every peer of ``endorsers`` (choose them to satisfy the chaincode's policy),
    submit through the first one's Gateway, wait for the commit there. Raises ``FabricError``
    with the peers' messages when an endorsement fails or the transaction is invalid."""
    if not endorsers:
        raise ValueError("a transaction needs at least one endorsing peer")
    proposal = proposals.chaincode_proposal(
        identity,
        channel=channel,
        chaincode=chaincode,
        args=_args(function, args),
        is_init=is_init,
    )
    action = f"{'initialise' if is_init else 'invoke'} {chaincode} {function or ''} on {channel}"
    responses = [p.endorse(proposal, action=action, timeout=timeout) for p in endorsers]
    committed = gateway.submit_and_wait(
        endorsers[0], identity, proposal, list(responses), action=action, timeout=timeout
    )
    return Submitted(committed.tx_id, committed.block, responses[0].response.payload)


def evaluate(
    peer: Peer,
    identity: SigningIdentity,
    *,
    channel: str,
    chaincode: str,
    function: str,
    args: Sequence[str | bytes] = (),
) -> bytes:
    """Query ``peer`` alone (nothing is ordered) and return the chaincode's result."""
    proposal = proposals.chaincode_proposal(
        identity, channel=channel, chaincode=chaincode, args=_args(function, args)
    )
    response = peer.endorse(proposal, action=f"query {chaincode} {function} on {channel}")
    return response.response.payload  # type: ignore[no-any-return]
