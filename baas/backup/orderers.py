"""Consistent copies of orderer ledgers: each orderer stopped, its data folder copied, started
again and caught up before the next one stops, so a Raft (or BFT) ordering service of three or
more keeps its quorum and goes on ordering throughout. An ordering service of one orderer
pauses while its copy is made (the report says so).

Target-neutral: :class:`OrdererControl` is what a runtime provides (stop, start, where its
data folder is); heights are read through the admin client.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from baas.errors import OperationError
from baas.fabric import deliver
from baas.fabric.errors import FabricError
from baas.network.access import NetworkAccess
from baas.network.changes import Report
from baas.plan import NodePlan

CATCH_UP_TIMEOUT = 120.0


class OrdererControl(Protocol):
    """What copying an orderer's ledger needs of a runtime."""

    def stop(self, node: NodePlan) -> None: ...

    def start(self, node: NodePlan) -> None:
        """Start ``node`` and return once it is healthy."""
        ...

    def data_dir(self, node: NodePlan) -> Path: ...


@dataclass(frozen=True)
class OrdererCopy:
    """An orderer's copied ledger: where it went and the heights it held per channel (read
    just before it stopped, so at least these)."""

    name: str
    folder: Path
    heights: dict[str, int]


def heights(access: NetworkAccess, node: NodePlan, channels: list[str]) -> dict[str, int]:
    """``node``'s height on each of ``channels`` (0 when it cannot answer)."""
    admin = access.admin(access.org_of(node))
    found: dict[str, int] = {}
    for channel in channels:
        try:
            found[channel] = deliver.height(
                access.connections, access.orderer(node), admin, channel=channel
            )
        except FabricError:
            found[channel] = 0
    return found


def _wait_caught_up(
    access: NetworkAccess,
    node: NodePlan,
    reached: Callable[[], dict[str, int]],
    channels: list[str],
) -> None:
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while True:
        want = reached()
        have = heights(access, node, channels)
        if all(have[c] >= want.get(c, 0) for c in channels):
            return
        if time.monotonic() > deadline:
            raise OperationError(
                f"{node.fqdn} has not caught up after its ledger was copied "
                f"(heights {have}, the others {want})",
                hint=f"see its log: `baas logs FILE {node.fqdn}`",
            )
        time.sleep(0.2)


def copy_ledger(
    access: NetworkAccess,
    node: NodePlan,
    *,
    control: OrdererControl,
    dest: Path,
    channels: list[str],
    others: list[NodePlan],
    report: Report,
) -> OrdererCopy:
    """Stop ``node``, copy its data folder to ``dest`` (replacing what is there), start it and
    wait until it has caught up with the highest of ``others`` (the other orderers, read when
    it is back). Starts ``node`` again even when the copy fails."""
    before = heights(access, node, channels)
    report(f"orderer {node.fqdn}: stopping to copy its ledger")
    control.stop(node)
    try:
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(control.data_dir(node), dest, symlinks=True)
    finally:
        control.start(node)

    def highest() -> dict[str, int]:
        seen = [heights(access, o, channels) for o in others]
        return {c: max([h[c] for h in seen], default=0) for c in channels}

    _wait_caught_up(access, node, highest, channels)
    report(f"orderer {node.fqdn}: ledger copied, back and caught up")
    return OrdererCopy(node.fqdn, dest, before)
