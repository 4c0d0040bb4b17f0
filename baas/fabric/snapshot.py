"""A peer's ledger snapshot service (gRPC ``protos.Snapshot``) and joining from a snapshot.

Requests follow Fabric's ``internal/peer/snapshot``: a ``SnapshotRequest`` (or
``SnapshotQuery``) carries a ``SignatureHeader{creator, nonce}`` of an admin of the peer's
organisation (the ACL is the peer's local MSP ``Admins``), and the serialised request is signed
by that admin in a ``SignedSnapshotRequest``.

The peer writes a generated snapshot to ``<snapshots root>/completed/<channel>/<block>/``
(the local runtime: ``data/<fqdn>/snapshots``). Generating it pauses commits on that channel
of that peer only; the call returns once the request is *recorded*, not generated:
:func:`pending` tells when it is done.
"""

from __future__ import annotations

import grpc
from fabric_protos.common import common_pb2, ledger_pb2
from fabric_protos.peer import snapshot_pb2, snapshot_pb2_grpc

from baas.fabric import errors, proposals
from baas.fabric.identity import SigningIdentity
from baas.fabric.peer import TIMEOUT, Peer


def _signature_header(admin: SigningIdentity) -> common_pb2.SignatureHeader:
    return common_pb2.SignatureHeader(creator=admin.serialize(), nonce=proposals.nonce())


def _signed(admin: SigningIdentity, request: bytes) -> snapshot_pb2.SignedSnapshotRequest:
    return snapshot_pb2.SignedSnapshotRequest(request=request, signature=admin.sign(request))


def submit(peer: Peer, admin: SigningIdentity, *, channel: str, block: int) -> None:
    """Ask ``peer`` to snapshot ``channel`` once block number ``block`` is committed (``0``:
    its last committed block). Raises ``FabricError`` with the peer's message, e.g. when
    ``block`` is below its last committed block, or "snapshot already generated" (callers
    check the completed folder first)."""
    request = snapshot_pb2.SnapshotRequest(
        signature_header=_signature_header(admin), channel_id=channel, block_number=block
    ).SerializeToString()
    stub = snapshot_pb2_grpc.SnapshotStub(peer.channel)
    action = f"request a snapshot of {channel} at block {block}"
    try:
        stub.Generate(_signed(admin, request), timeout=TIMEOUT)
    except grpc.RpcError as exc:
        raise errors.from_rpc(exc, action=action, target=str(peer.target)) from None


def pending(peer: Peer, admin: SigningIdentity, *, channel: str) -> list[int]:
    """Block numbers of ``channel``'s snapshot requests ``peer`` has not completed yet."""
    query = snapshot_pb2.SnapshotQuery(
        signature_header=_signature_header(admin), channel_id=channel
    ).SerializeToString()
    stub = snapshot_pb2_grpc.SnapshotStub(peer.channel)
    try:
        answer = stub.QueryPendings(_signed(admin, query), timeout=TIMEOUT)
    except grpc.RpcError as exc:
        raise errors.from_rpc(
            exc, action=f"list pending snapshots of {channel}", target=str(peer.target)
        ) from None
    return sorted(answer.block_numbers)


def join_by_snapshot(peer: Peer, admin: SigningIdentity, *, channel: str, path: str) -> None:
    """Join ``peer`` to ``channel`` from the snapshot folder ``path`` (a path on the peer's
    own filesystem) through cscc ``JoinChainBySnapshot`` (what ``peer channel
    joinbysnapshot`` sends). The call returns once the import has started; the channel shows
    in the peer's channel list only once it is done (:func:`joining_by_snapshot`)."""
    proposal = proposals.chaincode_proposal(
        admin,
        channel="",
        chaincode="cscc",
        args=[b"JoinChainBySnapshot", path.encode()],
        header_type=common_pb2.HeaderType.CONFIG,
    )
    peer.endorse(proposal, action=f"join {peer.target.name} to channel {channel} from {path}")


def joining_by_snapshot(peer: Peer, admin: SigningIdentity) -> bool:
    """Whether ``peer`` is still importing a snapshot (cscc ``JoinBySnapshotStatus``)."""
    from fabric_protos.peer import query_pb2

    proposal = proposals.chaincode_proposal(
        admin, channel="", chaincode="cscc", args=[b"JoinBySnapshotStatus"]
    )
    response = peer.endorse(proposal, action=f"ask {peer.target.name} for its snapshot import")
    status = query_pb2.JoinBySnapshotStatus.FromString(response.response.payload)
    return bool(status.in_progress)


def chain_info(peer: Peer, admin: SigningIdentity, *, channel: str) -> ledger_pb2.BlockchainInfo:
    """``peer``'s ledger of ``channel`` (qscc ``GetChainInfo``): its height, and
    ``bootstrappingSnapshotInfo.lastBlockInSnapshot`` when it joined from a snapshot. Unlike a
    deliver of the newest block this answers right after a snapshot import, before the peer
    holds any block of its own. Raises ``FabricError`` when the peer has not joined."""
    proposal = proposals.chaincode_proposal(
        admin, channel="", chaincode="qscc", args=[b"GetChainInfo", channel.encode()]
    )
    response = peer.endorse(proposal, action=f"read {peer.target.name}'s ledger of {channel}")
    return ledger_pb2.BlockchainInfo.FromString(response.response.payload)


def joined_by_snapshot(info: ledger_pb2.BlockchainInfo) -> int | None:
    """The last block of the snapshot a ledger was bootstrapped from, or None (from block 0)."""
    if not info.HasField("bootstrappingSnapshotInfo"):
        return None
    return int(info.bootstrappingSnapshotInfo.lastBlockInSnapshot)
