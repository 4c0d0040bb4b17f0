"""Peers joining from ledger snapshots, on real Fabric 2.5 (local runtime, marked ``fabric``).

* A two-orgs network with some blocks and a peer added to org1 in the topology: ``up`` joins
  it from a snapshot by org1's peer (its ledger says it was bootstrapped from one), and a
  transaction after that is read on it; ``up`` again changes nothing.
* Drill 4(a): a peer's data folder deleted (and its process killed) while a load writes
  assets; ``up`` rebuilds it from a snapshot and every asset committed is read on it.
* Drill 4(c): a backup taken while that writer runs restores (after a purge) to a consistent
  network: every asset committed before the backup on every peer, all peers at one height.

The height threshold is lowered with ``BAAS_SNAPSHOT_JOIN_HEIGHT`` so a short channel counts.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

import topology
from baas.fabric import snapshot
from baas.home import network_dir
from baas.network import snapshotjoin
from baas.plan import NodePlan
from baas.services import chaincode as chaincode_calls
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import (
    EXAMPLES,
    LocalNet,
    asset_args,
    read_when_committed,
    two_orgs_with,
    up_network,
)

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(900)]

THRESHOLD = 4


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(snapshotjoin.ENV, str(THRESHOLD))
    return tmp_path / "home"


def _topology(tmp_path: Path, name: str) -> Path:
    return two_orgs_with(
        EXAMPLES / "chaincode" / "asset-transfer", tmp_path / f"{name}.yaml", name=name
    )


def _peer(net: LocalNet, org: str, name: str) -> NodePlan:
    return next(p for p in net.plan.org(org).peers if p.name == name)


def _ledger(net: LocalNet, peer: NodePlan) -> tuple[int, int | None]:
    """(height, last block of the snapshot it joined from or None) of ``peer``'s mychannel."""
    with net.access() as access:
        info = snapshot.chain_info(
            access.peer(peer), access.admin(access.org_of(peer)), channel="mychannel"
        )
    return int(info.height), snapshot.joined_by_snapshot(info)


def _write(net: LocalNet, assets: list[str]) -> None:
    for asset in assets:
        chaincode_calls.invoke(
            net.loaded, chaincode="basic", function="CreateAsset", args=asset_args(asset)
        )


def test_a_new_peer_on_a_long_channel_joins_from_a_snapshot(home: Path, tmp_path: Path) -> None:
    install = fabric_install_or_skip("2.5")
    file = _topology(tmp_path, "snapjoin")
    with up_network(file, install=install) as net:
        _write(net, [f"before-{i}" for i in range(THRESHOLD)])
        text = file.read_text()
        last = "        - name: peer1\n      users: [alice]"
        grown = text.replace(
            last, last.replace("      users", "        - name: peer2\n      users")
        )
        assert grown != text
        file.write_text(grown)
        net.loaded = topology.load(file)
        net.up()
        peer2 = _peer(net, "org1", "peer2")
        joined = [line for line in net.progress if "joined from" in line]
        assert any(peer2.fqdn in line and "snapshot at block" in line for line in joined), (
            net.progress
        )
        height, from_block = _ledger(net, peer2)
        assert from_block is not None and from_block >= THRESHOLD
        assert height >= from_block + 1
        _write(net, ["after-join"])
        raw = read_when_committed(net.loaded, asset="after-join", peer=peer2.fqdn)
        assert json.loads(raw)["ID"] == "after-join"
        again = net.up()  # converges: nothing to join
        channel_phase = next(p for p in again.phases if p.name == "channel")
        assert not [c for c in channel_phase.changes if c.startswith("joined")], channel_phase


def _pid(net: LocalNet, fqdn: str) -> int | None:
    [node] = [n for n in net.status()["nodes"] if n["name"] == fqdn]
    return int(node["pid"]) if node.get("pid") else None


def test_drill_a_peer_data_folder_lost_under_load_is_rebuilt(home: Path, tmp_path: Path) -> None:
    install = fabric_install_or_skip("2.5")
    with up_network(_topology(tmp_path, "snapdrill"), install=install) as net:
        _write(net, [f"seed-{i}" for i in range(THRESHOLD)])
        committed: list[str] = []
        failed: list[str] = []
        stop = threading.Event()

        def load() -> None:
            i = 0
            while not stop.is_set():
                asset = f"load-{i}"
                i += 1
                try:
                    _write(net, [asset])
                    committed.append(asset)
                except Exception:
                    failed.append(asset)  # may or may not have committed: not checked

        writer = threading.Thread(target=load)
        writer.start()
        try:
            while len(committed) < 5:
                time.sleep(0.1)
            victim = _peer(net, "org1", "peer1")
            shutil.rmtree(network_dir("snapdrill") / "data" / victim.fqdn)
            pid = _pid(net, victim.fqdn)
            assert pid is not None
            os.kill(pid, signal.SIGKILL)  # the supervisor restarts it on an empty folder
            while len(committed) < 15:
                time.sleep(0.1)
            net.up()
            while len(committed) < 25:
                time.sleep(0.1)
        finally:
            stop.set()
            writer.join()
        assert any(victim.fqdn in line and "joined from" in line for line in net.progress), (
            net.progress
        )
        _, from_block = _ledger(net, victim)
        assert from_block is not None
        for asset in [f"seed-{i}" for i in range(THRESHOLD)] + committed:
            raw = read_when_committed(net.loaded, asset=asset, peer=victim.fqdn)
            assert json.loads(raw)["ID"] == asset


def test_drill_c_a_backup_under_load_restores_consistently(home: Path, tmp_path: Path) -> None:
    """Drill 4(c): a backup taken while a writer commits assets; after purge, restore and up
    every asset committed before the backup started is on every peer, and the peers agree."""
    from baas import services
    from baas.services import backup as backups

    install = fabric_install_or_skip("2.5")
    dest = tmp_path / "backup"
    with up_network(_topology(tmp_path, "backupload"), install=install) as net:
        committed: list[str] = []
        stop = threading.Event()

        def load() -> None:
            i = 0
            while not stop.is_set():
                asset = f"load-{i}"
                i += 1
                try:
                    _write(net, [asset])
                    committed.append(asset)
                except Exception:
                    pass  # the network is paused or busy: not counted as committed

        writer = threading.Thread(target=load)
        writer.start()
        try:
            while len(committed) < 5:
                time.sleep(0.1)
            before = list(committed)
            backups.backup(net.loaded, to=dest, passphrase="correct horse battery staple")
        finally:
            stop.set()
            writer.join()
        services.down(net.loaded, target="local", purge=True)
        backups.restore(dest, passphrase="correct horse battery staple")
        net.up()
        peers = [p for org in net.plan.orgs for p in org.peers]
        for asset in before:
            for peer in peers:
                raw = read_when_committed(net.loaded, asset=asset, peer=peer.fqdn)
                assert json.loads(raw)["ID"] == asset, peer.fqdn
        heights = {p.fqdn: _ledger(net, p)[0] for p in peers}
        assert len(set(heights.values())) == 1, heights
