"""Channels as ensures: every consenter serves the channel, the channel has a leader, every
member peer has joined it — each step only where it is missing.

1. Ask every consenter (channel participation API, in parallel) whether it serves the channel;
   only if one does not is the genesis block needed (``genesis()`` makes or reads it) and the
   missing ones join with it.
2. Wait until the ordering service has a leader (a strict deliver succeeds) — the first
   transaction would otherwise fail with "no Raft leader" (defect (d)).
3. Ask every member peer (in parallel) for its channels; those without it join with the genesis
   block — or, on a channel above :func:`baas.network.snapshotjoin.threshold` blocks, from a
   snapshot by a peer of their own organisation (when the runtime gives ``snapshots``).

Target-neutral: the runtime supplies the addresses (through :class:`NetworkAccess`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from baas.fabric import deliver, osnadmin
from baas.network import catchup, snapshotjoin
from baas.network.access import NetworkAccess
from baas.network.changes import Change, Report, retrying
from baas.plan import ChannelPlan, NodePlan, Plan

GenesisSource = Callable[[ChannelPlan], bytes]
"""Returns the channel's genesis block (making it once, then reading it back)."""
Configure = Callable[[ChannelPlan], list[Change]]
"""Brings an existing channel's config up to date (baas.network.config); runs once the
ordering service serves the channel, before peers join, so that an organisation added to the
channel is a member by the time its peers ask for blocks."""

NODE_TIMEOUT = 60.0
"""Seconds a node may take to start answering (and the service to elect a leader)."""


def consenters(plan: Plan, channel: ChannelPlan) -> list[NodePlan]:
    """The orderers of the channel's orderer organisations, in plan order."""
    return [o for name in channel.orderer_orgs for o in plan.org(name).orderers]


def members(plan: Plan, channel: ChannelPlan) -> list[NodePlan]:
    """Every peer of every member organisation, in plan order."""
    return [p for name in channel.members for p in plan.org(name).peers]


@dataclass(frozen=True)
class ChannelState:
    """Which of the channel's nodes already serve it."""

    channel: str
    orderers_joined: tuple[str, ...]
    orderers_missing: tuple[str, ...]
    peers_joined: tuple[str, ...]
    peers_missing: tuple[str, ...]


def _pool(items: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=max(1, min(items, 16)))


def _require_joiners(access: NetworkAccess, nodes: list[NodePlan], channel: ChannelPlan) -> None:
    """Refuse (before any node joins) when a node's organisation may not sign changes."""
    access.require_signers(
        [access.org_of(n) for n in nodes],
        purpose=f"joining {', '.join(n.fqdn for n in nodes)} to channel {channel.name}",
    )


def _orderer_joined(access: NetworkAccess, node: NodePlan, channel: str) -> bool:
    target = access.orderer_admin(node)
    info = retrying(lambda: osnadmin.channel_info(target, channel), timeout=NODE_TIMEOUT)
    return info is not None


def _peer_channels(access: NetworkAccess, node: NodePlan) -> list[str]:
    admin = access.admin(access.org_of(node))
    peer = access.peer(node)
    return retrying(lambda: peer.channels(admin), timeout=NODE_TIMEOUT)


def _join_orderer(access: NetworkAccess, node: NodePlan, channel: str, block: bytes) -> Change:
    target = access.orderer_admin(node)
    info = retrying(lambda: osnadmin.join(target, channel, block), timeout=NODE_TIMEOUT)
    return Change("joined", node.fqdn, f"channel {channel} as {info.consensus_relation}")


def _join_peer(
    access: NetworkAccess,
    node: NodePlan,
    channel: str,
    block: bytes,
    joiner: snapshotjoin.SnapshotJoiner | None = None,
) -> Change:
    if joiner is not None and (joined := joiner.join(node)) is not None:
        return joined
    admin = access.admin(access.org_of(node))
    peer = access.peer(node)
    retrying(lambda: peer.join(admin, block, channel=channel), timeout=NODE_TIMEOUT)
    return Change("joined", node.fqdn, f"channel {channel}")


def ensure_channel(
    access: NetworkAccess,
    channel: ChannelPlan,
    *,
    genesis: GenesisSource,
    report: Report,
    configure: Configure | None = None,
    leader_timeout: float = NODE_TIMEOUT,
    snapshots: snapshotjoin.SnapshotFolders | None = None,
) -> list[Change]:
    """Bring ``channel`` to the state the plan describes; returns what changed (empty when
    every node already served it). Raises ``FabricError`` with Fabric's message and the node
    when a join is refused. With ``snapshots`` (where the runtime's peers keep snapshots) a new
    peer of a long channel joins from a snapshot (:mod:`baas.network.snapshotjoin`)."""
    plan = access.plan
    orderers = consenters(plan, channel)
    peers = members(plan, channel)
    changes: list[Change] = []
    with _pool(len(orderers) + len(peers)) as pool:
        joined = list(pool.map(lambda n: _orderer_joined(access, n, channel.name), orderers))
        missing = [n for n, ok in zip(orderers, joined, strict=True) if not ok]
        block: bytes | None = None
        if missing:
            _require_joiners(access, missing, channel)
            block = genesis(channel)
            report(f"channel {channel.name}: joining {len(missing)} orderer(s)")
            changes += pool.map(
                lambda n: _join_orderer(access, n, channel.name, block or b""), missing
            )
        waited = deliver.wait_for_leader(
            access.connections,
            access.orderer(orderers[0]),
            access.admin(access.org_of(orderers[0])),
            channel=channel.name,
            timeout=leader_timeout,
        )
        if waited > 0.05:
            report(f"channel {channel.name}: ordering service has a leader ({waited:.1f} s)")
        if configure is not None:
            changes += configure(channel)
        peer_channels = list(pool.map(lambda n: _peer_channels(access, n), peers))
        new_peers = [
            n for n, chs in zip(peers, peer_channels, strict=True) if channel.name not in chs
        ]
        if new_peers:
            _require_joiners(access, new_peers, channel)
            block = block or genesis(channel)
            report(f"channel {channel.name}: joining {len(new_peers)} peer(s)")
            joiner = None
            if snapshots is not None:
                on = [n for n in peers if n not in new_peers]
                joiner = snapshotjoin.SnapshotJoiner(
                    access,
                    channel,
                    joined=on,
                    orderer=orderers[0],
                    folders=snapshots,
                    report=report,
                )
            changes += pool.map(
                lambda n: _join_peer(access, n, channel.name, block or b"", joiner), new_peers
            )
            catchup.wait_caught_up(
                access, new_peers, channel=channel.name, orderer=orderers[0], report=report
            )
    return changes


def ensure_channels(
    access: NetworkAccess,
    *,
    genesis: GenesisSource,
    report: Report,
    configure: Configure | None = None,
    snapshots: snapshotjoin.SnapshotFolders | None = None,
) -> list[Change]:
    """:func:`ensure_channel` for every channel of the plan, in plan order."""
    changes: list[Change] = []
    for channel in access.plan.channels:
        changes += ensure_channel(
            access,
            channel,
            genesis=genesis,
            report=report,
            configure=configure,
            snapshots=snapshots,
        )
    return changes


def channel_state(access: NetworkAccess, channel: ChannelPlan) -> ChannelState:
    """Read-only: which nodes serve ``channel`` (for ``plan`` and ``status``)."""
    plan = access.plan
    orderers = consenters(plan, channel)
    peers = members(plan, channel)
    with _pool(len(orderers) + len(peers)) as pool:
        joined = list(pool.map(lambda n: _orderer_joined(access, n, channel.name), orderers))
        peer_channels = list(pool.map(lambda n: _peer_channels(access, n), peers))
    on = [n.fqdn for n, ok in zip(orderers, joined, strict=True) if ok]
    off = [n.fqdn for n, ok in zip(orderers, joined, strict=True) if not ok]
    p_on = [n.fqdn for n, chs in zip(peers, peer_channels, strict=True) if channel.name in chs]
    p_off = [n.fqdn for n, chs in zip(peers, peer_channels, strict=True) if channel.name not in chs]
    return ChannelState(channel.name, tuple(on), tuple(off), tuple(p_on), tuple(p_off))
