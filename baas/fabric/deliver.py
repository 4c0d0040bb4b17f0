"""Reading blocks: from an orderer (``AtomicBroadcast.Deliver``) or a peer (``Deliver``).

* :func:`fetch_block` — one block by number, or the newest; ``best_effort=False`` makes an
  etcdraft/BFT orderer refuse while it has no leader, which :func:`wait_for_leader` uses to
  poll for one before the first transaction (instead of failing it with "no Raft leader").
* :func:`height` — newest block number + 1.
* :func:`config_block` — the channel's latest config block (its index is in the newest block's
  metadata).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Literal

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.orderer import ab_pb2, ab_pb2_grpc
from fabric_protos.peer import events_pb2_grpc

from baas.fabric import errors, proposals
from baas.fabric.connection import Connections, NodeTarget
from baas.fabric.identity import SigningIdentity

TIMEOUT = 30.0
Source = Literal["orderer", "peer"]
BlockRef = int | Literal["newest", "oldest"]


def _position(ref: BlockRef) -> ab_pb2.SeekPosition:
    if ref == "newest":
        return ab_pb2.SeekPosition(newest=ab_pb2.SeekNewest())
    if ref == "oldest":
        return ab_pb2.SeekPosition(oldest=ab_pb2.SeekOldest())
    return ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=ref))


def seek_envelope(
    identity: SigningIdentity, *, channel: str, ref: BlockRef, best_effort: bool
) -> common_pb2.Envelope:
    """A signed ``DELIVER_SEEK_INFO`` request for exactly one block."""
    position = _position(ref)
    info = ab_pb2.SeekInfo(
        start=position,
        stop=position,
        behavior=ab_pb2.SeekInfo.SeekBehavior.BLOCK_UNTIL_READY,
        error_response=(
            ab_pb2.SeekInfo.SeekErrorResponse.BEST_EFFORT
            if best_effort
            else ab_pb2.SeekInfo.SeekErrorResponse.STRICT
        ),
    )
    header = proposals.header(
        identity, header_type=common_pb2.HeaderType.DELIVER_SEEK_INFO, channel=channel
    )
    return proposals.signed_envelope(identity, header=header, data=info.SerializeToString())


def _stream(
    connections: Connections, target: NodeTarget, source: Source, envelope: common_pb2.Envelope
) -> Iterator[object]:
    channel = connections.channel(target)
    if source == "orderer":
        return ab_pb2_grpc.AtomicBroadcastStub(channel).Deliver(  # type: ignore[no-any-return]
            iter([envelope]), timeout=TIMEOUT
        )
    return events_pb2_grpc.DeliverStub(channel).Deliver(  # type: ignore[no-any-return]
        iter([envelope]), timeout=TIMEOUT
    )


def fetch_block(
    connections: Connections,
    target: NodeTarget,
    identity: SigningIdentity,
    *,
    channel: str,
    ref: BlockRef = "newest",
    source: Source = "orderer",
    best_effort: bool = True,
) -> common_pb2.Block:
    """One block of ``channel`` from ``target``; raises ``FabricError`` (``retryable`` for
    SERVICE_UNAVAILABLE, e.g. no leader yet) when the node refuses."""
    envelope = seek_envelope(identity, channel=channel, ref=ref, best_effort=best_effort)
    action = f"read block {ref} of {channel}"
    block = None
    try:
        for response in _stream(connections, target, source, envelope):
            kind = response.WhichOneof("Type")  # type: ignore[attr-defined]
            if kind == "block":
                block = response.block  # type: ignore[attr-defined]
            elif kind == "status":
                status = response.status  # type: ignore[attr-defined]
                if status == common_pb2.Status.SUCCESS and block is not None:
                    return block
                name = common_pb2.Status.Name(status)
                raise errors.FabricError(
                    f"{action} refused by {target}: {name}",
                    hint="NOT_FOUND: the node has not joined the channel; "
                    "SERVICE_UNAVAILABLE: the ordering service has no leader yet",
                    retryable=status in (common_pb2.Status.SERVICE_UNAVAILABLE,),
                )
    except grpc.RpcError as exc:
        raise errors.from_rpc(exc, action=action, target=str(target)) from None
    if block is not None:
        return block
    raise errors.FabricError(f"{action}: {target} closed the stream without a block")


def height(
    connections: Connections,
    target: NodeTarget,
    identity: SigningIdentity,
    *,
    channel: str,
    source: Source = "orderer",
) -> int:
    """Number of blocks ``target`` holds for ``channel``."""
    block = fetch_block(connections, target, identity, channel=channel, source=source)
    return int(block.header.number) + 1


def last_config_index(block: common_pb2.Block) -> int:
    """Index of the config block in force at ``block`` (``protoutil.GetLastConfigIndexFromBlock``:
    the SIGNATURES metadata's ``OrdererBlockMetadata.last_config``)."""
    slot = block.metadata.metadata[common_pb2.BlockMetadataIndex.SIGNATURES]
    metadata = common_pb2.Metadata.FromString(slot)
    ordered = common_pb2.OrdererBlockMetadata.FromString(metadata.value)
    return int(ordered.last_config.index)


def config_block(
    connections: Connections,
    target: NodeTarget,
    identity: SigningIdentity,
    *,
    channel: str,
    source: Source = "orderer",
) -> common_pb2.Block:
    """The latest config block of ``channel``."""
    newest = fetch_block(connections, target, identity, channel=channel, source=source)
    index = last_config_index(newest)
    if index == newest.header.number:
        return newest
    return fetch_block(connections, target, identity, channel=channel, ref=index, source=source)


def wait_for_leader(
    connections: Connections,
    target: NodeTarget,
    identity: SigningIdentity,
    *,
    channel: str,
    timeout: float = 60.0,
    interval: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
) -> float:
    """Poll ``target`` (an orderer) until it serves ``channel`` strictly — which an etcdraft or
    BFT orderer does only once the channel has a leader; returns the seconds waited. Raises the
    last ``FabricError`` when ``timeout`` passes or the error is not a transient one."""
    start = clock()
    while True:
        try:
            fetch_block(connections, target, identity, channel=channel, best_effort=False)
            return clock() - start
        except errors.FabricError as exc:
            if not exc.retryable or clock() - start > timeout:
                raise
        time.sleep(interval)


def blocks(
    connections: Connections,
    target: NodeTarget,
    identity: SigningIdentity,
    *,
    channel: str,
    start: int = 0,
    stop: BlockRef = "newest",
    source: Source = "peer",
) -> Iterator[common_pb2.Block]:
    """Every block of ``channel`` from ``start`` to ``stop`` (inclusive) as ``target`` holds
    them; raises ``FabricError`` when the node refuses."""
    info = ab_pb2.SeekInfo(
        start=_position(start),
        stop=_position(stop),
        behavior=ab_pb2.SeekInfo.SeekBehavior.BLOCK_UNTIL_READY,
        error_response=ab_pb2.SeekInfo.SeekErrorResponse.BEST_EFFORT,
    )
    header = proposals.header(
        identity, header_type=common_pb2.HeaderType.DELIVER_SEEK_INFO, channel=channel
    )
    envelope = proposals.signed_envelope(identity, header=header, data=info.SerializeToString())
    action = f"read blocks {start}..{stop} of {channel}"
    try:
        for response in _stream(connections, target, source, envelope):
            kind = response.WhichOneof("Type")  # type: ignore[attr-defined]
            if kind == "block":
                yield response.block  # type: ignore[attr-defined]
            elif kind == "status":
                status = response.status  # type: ignore[attr-defined]
                if status != common_pb2.Status.SUCCESS:
                    raise errors.FabricError(
                        f"{action} refused by {target}: {common_pb2.Status.Name(status)}"
                    )
                return
    except grpc.RpcError as exc:
        raise errors.from_rpc(exc, action=action, target=str(target)) from None


def transactions_of(block: common_pb2.Block) -> list[tuple[str, bool]]:
    """``(tx_id, valid)`` of every endorser transaction in ``block``: the channel headers' IDs
    and the peer's validation flags (TRANSACTIONS_FILTER metadata; code 0 is VALID). Config
    transactions are left out. Pure."""
    flags = block.metadata.metadata[common_pb2.BlockMetadataIndex.TRANSACTIONS_FILTER]
    found: list[tuple[str, bool]] = []
    for index, raw in enumerate(block.data.data):
        envelope = common_pb2.Envelope.FromString(raw)
        payload = common_pb2.Payload.FromString(envelope.payload)
        header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        if header.type != common_pb2.HeaderType.ENDORSER_TRANSACTION:
            continue
        valid = index < len(flags) and flags[index] == 0
        found.append((header.tx_id, valid))
    return found
