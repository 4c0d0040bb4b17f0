"""A local network brought up through the service layer, for tests against real Fabric."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import topology
from baas import services
from baas.fabric.binaries import FabricInstall
from baas.home import network_dir
from baas.network.access import NetworkAccess
from baas.network.crypto import CryptoTree
from baas.plan import Plan, build
from baas.runtimes.local import ports
from baas.services import chaincode as chaincode_calls


def asset_args(asset: str) -> list[str]:
    """CreateAsset arguments of the sample chaincode: id, color, size, owner, value."""
    return [asset, "blue", "5", "Tomoko", "300"]


@dataclass
class LocalNet:
    loaded: topology.LoadedTopology
    install: FabricInstall
    outcome: Any = None
    progress: list[str] = field(default_factory=list)

    @property
    def plan(self) -> Plan:
        return build(self.loaded.network)

    @property
    def state_dir(self) -> Path:
        return network_dir(self.loaded.network.metadata.name)

    @property
    def result(self) -> Any:
        return self.outcome.value

    def up(self) -> Any:
        self.outcome = services.up(
            self.loaded, target="local", fabric_bin=self.install.root, report=self.progress.append
        )
        return self.outcome.value

    def status(self) -> dict[str, Any]:
        return services.status(self.loaded, target="local").to_dict()  # type: ignore[no-any-return]

    def access(self) -> NetworkAccess:
        return NetworkAccess(
            self.plan, CryptoTree(self.state_dir / "crypto"), ports.load_addresses(self.state_dir)
        )


@contextmanager
def up_network(file: Path, *, install: FabricInstall) -> Iterator[LocalNet]:
    """``baas up`` the topology at ``file`` (in the current ``BAAS_HOME``), yield it, and
    ``baas down --purge`` it whatever happens."""
    net = LocalNet(topology.load(file), install)
    try:
        net.up()
        yield net
    finally:
        services.down(net.loaded, target="local", purge=True)


def leftover_processes(state_dir: Path) -> list[str]:
    """Command lines of live processes that mention ``state_dir`` (nodes, chaincode servers
    and supervisord all do: their config or data lives there)."""
    marker = str(state_dir)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in raw or marker.encode() in environ:
            found.append(raw.replace(b"\0", b" ").decode(errors="replace").strip())
    return [f for f in found if f]


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def two_orgs_with(chaincode: Path, file: Path, *, name: str) -> Path:
    """examples/two-orgs.yaml as network ``name`` whose chaincode is the folder ``chaincode``."""
    text = (EXAMPLES / "two-orgs.yaml").read_text()
    text = text.replace("path: chaincode/asset-transfer", f"path: {chaincode}")
    text = text.replace("name: supplychain", f"name: {name}")
    assert str(chaincode) in text and f"name: {name}" in text
    file.write_text(text)
    return file


def read_when_committed(loaded: topology.LoadedTopology, *, asset: str, peer: str) -> bytes:
    """The other org's peer commits the block a moment after the submitting one: poll."""
    deadline = time.monotonic() + 30
    while True:
        try:
            answer = chaincode_calls.query(
                loaded, chaincode="basic", function="ReadAsset", args=[asset], peer=peer
            )
            result: bytes = answer.value.result
            return result
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
