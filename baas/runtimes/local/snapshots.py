"""Where the local runtime's peers keep ledger snapshots: ``data/<fqdn>/snapshots`` (Fabric's
``ledger.snapshots.rootDir``), completed ones under ``completed/<channel>/<block>/``. Every peer
runs on this machine, so a peer joining from a snapshot reads another peer's folder as it is
(:class:`baas.network.snapshotjoin.SnapshotFolders`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from baas.plan import NodePlan
from baas.runtimes.local import nodes


@dataclass(frozen=True)
class LocalSnapshotFolders:
    """Snapshot folders of the network whose state folder is ``state_dir``."""

    state_dir: Path

    def folder(self, peer: NodePlan, channel: str, block: int) -> Path:
        """``peer``'s completed snapshot of ``channel`` at ``block`` (an absolute path)."""
        return (
            nodes.data_dir(self.state_dir, peer) / "snapshots" / "completed" / channel / str(block)
        )

    def path_for(self, joiner: NodePlan, source: NodePlan, channel: str, block: int) -> str:
        """The same folder: every local peer shares this machine's file system."""
        return str(self.folder(source, channel, block))
