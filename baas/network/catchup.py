"""Peers catching up on a channel: wait until newly joined peers hold the blocks the ordering
service had when they joined, so that what follows (chaincode approvals and commits read from
those peers) sees the channel as it is — a peer joining a long channel, or every peer of a
restored network, would otherwise report nothing defined and have baas approve again.

Target-neutral; the wait is bounded and reports how long catching up took.
"""

from __future__ import annotations

import time

from baas.errors import OperationError
from baas.fabric import deliver, snapshot
from baas.fabric.errors import FabricError
from baas.network.access import NetworkAccess
from baas.network.changes import Report
from baas.plan import NodePlan

TIMEOUT = 300.0


def _height(access: NetworkAccess, node: NodePlan, channel: str, source: deliver.Source) -> int:
    """``node``'s height of ``channel`` (0 while it has none). A peer's is read from its
    ledger (qscc): a peer just joined from a snapshot holds no block a deliver could return."""
    if source == "peer":
        try:
            info = snapshot.chain_info(
                access.peer(node), access.admin(access.org_of(node)), channel=channel
            )
            return int(info.height)
        except FabricError:
            return 0
    target = access.orderer(node)
    try:
        return deliver.height(
            access.connections,
            target,
            access.admin(access.org_of(node)),
            channel=channel,
            source=source,
        )
    except FabricError:
        return 0


def wait_caught_up(
    access: NetworkAccess,
    peers: list[NodePlan],
    *,
    channel: str,
    orderer: NodePlan,
    report: Report,
    timeout: float = TIMEOUT,
) -> float:
    """Return once every peer of ``peers`` holds at least the height ``orderer`` had on
    ``channel`` when called (seconds waited; reported when it took a while). Raises
    OperationError naming the peers still behind after ``timeout``."""
    started = time.monotonic()
    want = _height(access, orderer, channel, "orderer")
    behind = list(peers)
    while behind:
        behind = [p for p in behind if _height(access, p, channel, "peer") < want]
        if not behind:
            break
        if time.monotonic() - started > timeout:
            raise OperationError(
                f"channel {channel}: {', '.join(p.fqdn for p in behind)} did not reach height "
                f"{want} in {timeout:.0f} s",
                hint="see their logs with `baas logs FILE NODE`",
            )
        time.sleep(0.2)
    waited = time.monotonic() - started
    if waited > 1.0:
        report(
            f"channel {channel}: {len(peers)} peer(s) caught up to height {want} ({waited:.1f} s)"
        )
    return waited
