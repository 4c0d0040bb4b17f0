"""A new peer on a long channel joins from a ledger snapshot instead of block 0 (issue 21,
item 3): cscc ``JoinChainBySnapshot`` with a snapshot taken by a peer of its own
organisation, chosen automatically when the channel is above :func:`threshold` blocks.

Why its own organisation: a peer trusts a snapshot's state as it is (it checks the files
against the snapshot's metadata, not against the blocks), so the snapshot must come from a
peer the joining peer's organisation runs. Without such a peer already on the channel the peer
joins from the genesis block as before.

Which snapshot: the source peer's latest completed snapshot of the channel when fewer than
:func:`threshold` blocks were committed after it, else a new one at the source's last committed
block (generating it pauses that one peer's commits on the channel). The runtime says where
snapshots live (:class:`SnapshotFolders`): the local runtime's peers share one file system, so
the joining peer reads the source peer's folder.

A peer joined from a snapshot cannot serve blocks before it (``peer channel fetch``, a deliver
from block 0); it has the state and every later block. Target-neutral; an ensure: a join whose
import is still running (an interrupted ``up``) is waited for, not repeated.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from baas.errors import OperationError, UsageError
from baas.fabric import deliver, snapshot
from baas.fabric.errors import FabricError
from baas.network.access import NetworkAccess
from baas.network.changes import Change, Report, retrying
from baas.plan import ChannelPlan, NodePlan

JOIN_BY_SNAPSHOT_HEIGHT = 1000
"""Channel height (blocks, at the ordering service) above which a new peer joins from a
snapshot. Below it pulling every block is about as fast as generating and importing a
snapshot. Override with ``BAAS_SNAPSHOT_JOIN_HEIGHT`` (``0``: never join from a snapshot)."""
ENV = "BAAS_SNAPSHOT_JOIN_HEIGHT"
TIMEOUT = 300.0
"""Seconds a snapshot may take to generate, and an import to finish."""
ADDITIONAL = "_snapshot_additional_metadata.json"
"""Written last by a peer generating a snapshot: its presence marks a complete snapshot."""


def threshold() -> int:
    """The height threshold in force: ``BAAS_SNAPSHOT_JOIN_HEIGHT`` when set, else
    :data:`JOIN_BY_SNAPSHOT_HEIGHT`; ``0`` disables. UsageError when not a whole number ≥ 0."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return JOIN_BY_SNAPSHOT_HEIGHT
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise UsageError(f"{ENV}={raw} is not a whole number of blocks (0 disables)")
    return value


class SnapshotFolders(Protocol):
    """Where a runtime's peers keep completed snapshots."""

    def folder(self, peer: NodePlan, channel: str, block: int) -> Path:
        """The folder of ``peer``'s completed snapshot of ``channel`` at ``block``, readable
        by baas."""

    def path_for(self, joiner: NodePlan, source: NodePlan, channel: str, block: int) -> str:
        """That folder as ``joiner``'s file system sees it (what ``JoinChainBySnapshot``
        gets)."""


def completed(folders: SnapshotFolders, peer: NodePlan, channel: str) -> list[int]:
    """Block numbers of ``peer``'s complete snapshots of ``channel``, ascending."""
    root = folders.folder(peer, channel, 0).parent
    if not root.is_dir():
        return []
    return sorted(
        int(p.name) for p in root.iterdir() if p.name.isdigit() and (p / ADDITIONAL).is_file()
    )


@dataclass(frozen=True)
class SnapshotJoined:
    """One peer joined from a snapshot: the source peer, the snapshot's last block, the
    channel height when it joined, and how long the import took (seconds)."""

    peer: str
    channel: str
    source: str
    block: int
    height: int
    seconds: float


def source_peer(peer: NodePlan, joined: list[NodePlan]) -> NodePlan | None:
    """The first peer of ``joined`` (already on the channel) in ``peer``'s organisation."""
    return next((p for p in joined if p.org == peer.org and p.fqdn != peer.fqdn), None)


class SnapshotJoiner:
    """Joins the new peers of one channel from snapshots where :func:`threshold` says so.
    Thread-safe: new peers join in parallel, and peers of one organisation share one snapshot
    (generated once, under a lock)."""

    def __init__(
        self,
        access: NetworkAccess,
        channel: ChannelPlan,
        *,
        joined: list[NodePlan],
        orderer: NodePlan,
        folders: SnapshotFolders,
        report: Report,
    ) -> None:
        self.access = access
        self.channel = channel
        self.joined = joined
        self.orderer = orderer
        self.folders = folders
        self.report = report
        self.done: list[SnapshotJoined] = []
        self._lock = threading.Lock()
        self._height: int | None = None
        self._snapshots: dict[str, int] = {}

    def height(self) -> int:
        """The channel's height at the ordering service (read once)."""
        with self._lock:
            if self._height is None:
                admin = self.access.admin(self.access.org_of(self.orderer))
                self._height = retrying(
                    lambda: deliver.height(
                        self.access.connections,
                        self.access.orderer(self.orderer),
                        admin,
                        channel=self.channel.name,
                    )
                )
            return self._height

    def join(self, peer: NodePlan) -> Change | None:
        """Join ``peer`` from a snapshot and return the change, or None when it should join
        from the genesis block (the channel is not long enough, or no peer of its organisation
        is on the channel). Waits for an import already running instead of starting one.
        Raises FabricError / OperationError when the snapshot or the import fails."""
        admin = self.access.admin(self.access.org_of(peer))
        client = self.access.peer(peer)
        if snapshot.joining_by_snapshot(client, admin):
            seconds = self._wait_imported(peer)
            return Change(
                "joined",
                peer.fqdn,
                f"channel {self.channel.name} from a snapshot "
                f"(import already under way, {seconds:.1f} s)",
            )
        limit = threshold()
        source = source_peer(peer, self.joined)
        if limit == 0 or source is None:
            return None
        height = self.height()
        if height <= limit:
            return None
        block = self._snapshot(source, height, limit)
        path = self.folders.path_for(peer, source, self.channel.name, block)
        started = time.monotonic()
        snapshot.join_by_snapshot(client, admin, channel=self.channel.name, path=path)
        self._wait_imported(peer)
        seconds = time.monotonic() - started
        joined = SnapshotJoined(peer.fqdn, self.channel.name, source.fqdn, block, height, seconds)
        with self._lock:
            self.done.append(joined)
        self.report(
            f"channel {self.channel.name}: {peer.fqdn} joined from {source.fqdn}'s snapshot at "
            f"block {block} (channel height {height}, above {limit}): imported in {seconds:.1f} s"
        )
        return Change(
            "joined", peer.fqdn, f"channel {self.channel.name} from a snapshot at block {block}"
        )

    def _snapshot(self, source: NodePlan, height: int, limit: int) -> int:
        """A complete snapshot of the channel by ``source`` fewer than ``limit`` blocks behind
        ``height``: its latest one, or a new one at its last committed block."""
        with self._lock:
            if source.fqdn in self._snapshots:
                return self._snapshots[source.fqdn]
            have = completed(self.folders, source, self.channel.name)
            if have and height - (have[-1] + 1) < limit:
                block = have[-1]
            else:
                block = self._generate(source, set(have))
            self._snapshots[source.fqdn] = block
            return block

    def _generate(self, source: NodePlan, before: set[int]) -> int:
        admin = self.access.admin(self.access.org_of(source))
        client = self.access.peer(source)
        channel = self.channel.name
        if not snapshot.pending(client, admin, channel=channel):
            # block 0: the last block the peer has committed when the request arrives (a
            # number read beforehand could be passed by then under load)
            snapshot.submit(client, admin, channel=channel, block=0)
        deadline = time.monotonic() + TIMEOUT
        while True:
            new = set(completed(self.folders, source, channel)) - before
            if new and not snapshot.pending(client, admin, channel=channel):
                return max(new)
            if time.monotonic() > deadline:
                raise OperationError(
                    f"{source.fqdn} has not completed a snapshot of {channel}",
                    hint=f"see its log: `baas logs FILE {source.fqdn}`",
                )
            time.sleep(0.2)

    def _wait_imported(self, peer: NodePlan) -> float:
        """Seconds until ``peer``'s import is done and the channel is in its list. The peer
        clears its import status only after the channel is set up, so an idle peer without the
        channel means the import failed (OperationError; the peer logs why)."""
        admin = self.access.admin(self.access.org_of(peer))
        client = self.access.peer(peer)
        started = time.monotonic()
        while True:
            try:
                busy = snapshot.joining_by_snapshot(client, admin)
                listed = self.channel.name in client.channels(admin)
            except FabricError:
                busy, listed = True, False
            if listed and not busy:
                return time.monotonic() - started
            if not busy:
                raise OperationError(
                    f"{peer.fqdn} failed to join {self.channel.name} from a snapshot",
                    hint=f'see its log ("Error creating ledger from snapshot"): '
                    f"`baas logs FILE {peer.fqdn}`",
                )
            if time.monotonic() - started > TIMEOUT:
                raise OperationError(
                    f"{peer.fqdn} has not finished joining {self.channel.name} from a snapshot",
                    hint=f"see its log: `baas logs FILE {peer.fqdn}`",
                )
            time.sleep(0.2)
