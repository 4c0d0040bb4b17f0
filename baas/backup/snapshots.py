"""Peers' ledger snapshots of one channel at one agreed block, checked against each other.

Target-neutral: the runtime says where a peer's completed snapshot of a channel at a block
lives (:data:`Locate`, a path baas can read: the peer's own folder locally, a copy out of a pod
on Kubernetes) and baas's admin client asks for it through the snapshot service.

Rules (issue 21): one peer per organisation per channel snapshots (never two of one
organisation at a time: generating pauses that peer's commits on the channel), all at the same
block — the highest block any of them has committed, which the others reach as they catch up
— and their state hashes must agree before the snapshot set is called good.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from baas.errors import OperationError
from baas.fabric import deliver, snapshot
from baas.network.access import NetworkAccess
from baas.network.changes import Report, retrying
from baas.plan import ChannelPlan, NodePlan

Locate = Callable[[NodePlan, str, int], Path]
"""(peer, channel, block number) → the folder of that peer's completed snapshot."""

SIGNABLE = "_snapshot_signable_metadata.json"
ADDITIONAL = "_snapshot_additional_metadata.json"
TIMEOUT = 300.0


@dataclass(frozen=True)
class ChannelSnapshots:
    """One channel's snapshots: the block they are at, the state hash they agree on, and each
    snapshotting peer's folder."""

    channel: str
    block: int
    state_hash: str
    folders: dict[str, Path]

    @property
    def height(self) -> int:
        """The channel height the snapshots hold (block numbers start at 0)."""
        return self.block + 1


def snapshot_peers(access: NetworkAccess, channel: ChannelPlan) -> list[NodePlan]:
    """The first peer of each member organisation, plan order: one per organisation."""
    return [
        access.plan.org(name).peers[0] for name in channel.members if access.plan.org(name).peers
    ]


def agreed_block(heights: dict[str, int]) -> int:
    """The block every peer is asked to snapshot at: the highest committed one (height - 1).
    Peers below it snapshot once they reach it; none is asked for a block it has passed."""
    if not heights or max(heights.values()) < 1:
        raise OperationError("no peer has a block to snapshot")
    return max(heights.values()) - 1


def state_hash(folder: Path) -> str:
    """The snapshot's hash over its signable metadata (the files' hashes, the last block's
    hash): what ``ledgerutil compare`` starts from. OperationError when unreadable."""
    try:
        additional = json.loads((folder / ADDITIONAL).read_text())
        json.loads((folder / SIGNABLE).read_text())
        return str(additional["snapshot_hash"])
    except (OSError, ValueError, KeyError) as exc:
        raise OperationError(f"{folder} is not a complete Fabric snapshot ({exc})") from None


def _height(access: NetworkAccess, peer: NodePlan, channel: str) -> int:
    admin = access.admin(access.org_of(peer))
    return retrying(
        lambda: deliver.height(
            access.connections, access.peer(peer).target, admin, channel=channel, source="peer"
        )
    )


def _request(access: NetworkAccess, peer: NodePlan, channel: str, block: int, folder: Path) -> None:
    if (folder / ADDITIONAL).is_file():
        return  # generated before (a re-run backup): the peer would refuse a second request
    admin = access.admin(access.org_of(peer))
    client = access.peer(peer)
    if block in snapshot.pending(client, admin, channel=channel):
        return
    snapshot.submit(client, admin, channel=channel, block=block)


def _wait(
    access: NetworkAccess, peer: NodePlan, channel: str, block: int, folder: Path, timeout: float
) -> None:
    admin = access.admin(access.org_of(peer))
    client = access.peer(peer)
    deadline = time.monotonic() + timeout
    while not (folder / ADDITIONAL).is_file() or block in snapshot.pending(
        client, admin, channel=channel
    ):
        if time.monotonic() > deadline:
            raise OperationError(
                f"{peer.fqdn} has not completed its snapshot of {channel} at block {block}",
                hint=f"see its log: `baas logs FILE {peer.fqdn}`",
            )
        time.sleep(0.2)


def take(
    access: NetworkAccess,
    channel: ChannelPlan,
    *,
    locate: Locate,
    report: Report,
    peers: Sequence[NodePlan] | None = None,
    timeout: float = TIMEOUT,
) -> ChannelSnapshots:
    """Snapshots of ``channel`` by ``peers`` (default :func:`snapshot_peers`) at one agreed
    block, waited for and compared. An ensure: a snapshot already completed at that block is
    reused. Raises OperationError when a peer fails or the state hashes differ."""
    chosen = list(peers if peers is not None else snapshot_peers(access, channel))
    heights = {p.fqdn: _height(access, p, channel.name) for p in chosen}
    block = agreed_block(heights)
    folders = {p.fqdn: locate(p, channel.name, block) for p in chosen}
    report(f"channel {channel.name}: snapshots of {len(chosen)} peer(s) at block {block}")
    with ThreadPoolExecutor(max_workers=max(1, len(chosen))) as pool:
        list(pool.map(lambda p: _request(access, p, channel.name, block, folders[p.fqdn]), chosen))
        list(
            pool.map(
                lambda p: _wait(access, p, channel.name, block, folders[p.fqdn], timeout), chosen
            )
        )
    hashes = {name: state_hash(folder) for name, folder in folders.items()}
    if len(set(hashes.values())) != 1:
        raise OperationError(
            f"channel {channel.name}: the peers' snapshots at block {block} differ: "
            + ", ".join(f"{n} {h[:12]}" for n, h in sorted(hashes.items())),
            hint="compare them with `ledgerutil compare`; the backup is not good",
        )
    return ChannelSnapshots(channel.name, block, next(iter(hashes.values())), folders)
