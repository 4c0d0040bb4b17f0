"""``baas up`` on the local runtime against Fabric's own binaries (marked ``fabric``).

Each test brings a real network up through the service layer, then uses baas's Python admin
client against the real nodes: it writes an asset through the sample chaincode, endorsed by
every member organisation, and reads it back from every member peer. They skip, saying how to
provide binaries, where the pinned release is not installed.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

import topology
from baas import services
from baas.fabric import discovery, errors, transactions
from baas.fabric.client import Contract
from baas.network.access import NetworkAccess
from baas.plan import Plan
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import (
    LocalNet,
    asset_args,
    leftover_processes,
    up_network,
)

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(600)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _write_and_read_everywhere(net: LocalNet, asset: str) -> None:
    """Create ``asset`` endorsed by every member organisation, then read it from every member
    peer of the channel."""
    plan = net.plan
    cc = plan.chaincodes[0]
    channel = next(c for c in plan.channels if c.name == cc.channel)
    orgs = [plan.org(name) for name in channel.members]
    with net.access() as access:
        endorsers = [access.peer(org.anchor_peers[0]) for org in orgs]
        client = access.user(orgs[0], orgs[0].users[0]) if orgs[0].users else access.admin(orgs[0])
        done = transactions.submit(
            endorsers,
            client,
            channel=cc.channel,
            chaincode=cc.name,
            function="CreateAsset",
            args=asset_args(asset),
        )
        assert done.block > 0
        for org in orgs:
            for node in org.peers:
                raw = _read_when_committed(access, net.plan, node_fqdn=node.fqdn, asset=asset)
                assert json.loads(raw)["ID"] == asset, node.fqdn


def _read_when_committed(access: NetworkAccess, plan: Plan, *, node_fqdn: str, asset: str) -> bytes:
    """Other peers commit the block a moment after the submitting one: poll (bounded)."""
    cc = plan.chaincodes[0]
    node = next(n for o in plan.orgs for n in o.peers if n.fqdn == node_fqdn)
    org = plan.org(node.org)
    deadline = time.monotonic() + 30
    while True:
        try:
            return transactions.evaluate(
                access.peer(node),
                access.admin(org),
                channel=cc.channel,
                chaincode=cc.name,
                function="ReadAsset",
                args=[asset],
            )
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _endorsable_through_every_peer(net: LocalNet) -> None:
    """Right after up, every member peer's discovery service lays out an endorsement by both
    organisations (the majority policy of two), and a Gateway submit through each peer is
    endorsed at the first attempt; a query about a channel the peer does not have is refused
    for good (not retryable)."""
    plan = net.plan
    org1, org2 = plan.org("org1"), plan.org("org2")
    with net.access() as access:
        for org in (org1, org2):
            for node in org.peers:
                layouts = discovery.endorsement_layouts(
                    access.peer_over_admin_tls(node),
                    access.admin(org),
                    access.admin_tls(org),
                    channel="mychannel",
                    chaincode="basic",
                )
                assert layouts and all(len(layout.quantities) == 2 for layout in layouts)
                contract = Contract(
                    access.peer(node), access.admin(org), channel="mychannel", chaincode="basic"
                )
                asset = f"gw-{node.name}-{org.name}"
                assert contract.submit("CreateAsset", *asset_args(asset)).code == "VALID"
        with pytest.raises(errors.FabricError, match="access denied") as refused:
            discovery.endorsement_layouts(
                access.peer_over_admin_tls(org1.peers[0]),
                access.admin(org1),
                access.admin_tls(org1),
                channel="nosuchchannel",
                chaincode="basic",
            )
        assert not refused.value.retryable


def test_two_orgs_on_2_5(home: Path) -> None:
    """examples/two-orgs.yaml on 2.5.16: up, a transaction endorsed by both orgs read back from
    all four peers; a second up changes nothing; down + up resumes from the ledgers (same
    genesis, the asset still there); a SIGKILLed peer is back after up; no process left."""
    install = fabric_install_or_skip("2.5.16")
    with up_network(EXAMPLES / "two-orgs.yaml", install=install) as net:
        first = net.result
        assert [p.name for p in first.phases] == ["config", "start", "channel", "chaincode"]
        assert any("committed basic" in c for c in first.phases[-1].changes)
        _endorsable_through_every_peer(net)
        _write_and_read_everywhere(net, "asset-1")

        again = net.up()
        assert not again.changed, again.to_dict()

        genesis = (net.state_dir / "channels" / "mychannel.block").read_bytes()
        services.down(net.loaded, target="local")
        assert leftover_processes(net.state_dir) == []
        resumed = net.up()
        assert (net.state_dir / "channels" / "mychannel.block").read_bytes() == genesis
        assert not any("joined" in c for p in resumed.phases for c in p.changes)
        with net.access() as access:
            org1 = net.plan.org("org1")
            raw = transactions.evaluate(
                access.peer(org1.peers[1]),
                access.admin(org1),
                channel="mychannel",
                chaincode="basic",
                function="ReadAsset",
                args=["asset-1"],
            )
            assert json.loads(raw)["ID"] == "asset-1"

        victim = next(n for n in net.status()["nodes"] if n["name"] == "peer1.org2.example.com")
        os.kill(victim["pid"], signal.SIGKILL)
        healed = net.up()
        assert healed is not None
        after = {n["name"]: n for n in net.status()["nodes"]}
        assert after["peer1.org2.example.com"]["healthy"]
        assert after["peer1.org2.example.com"]["pid"] != victim["pid"]
        _write_and_read_everywhere(net, "asset-2")
    assert leftover_processes(net.state_dir) == []


def test_bft_on_3_1(home: Path) -> None:
    """examples/bft.yaml (4 BFT orderers) on 3.1.5 commits and reads back an asset."""
    install = fabric_install_or_skip("3.1.5")
    with up_network(EXAMPLES / "bft.yaml", install=install) as net:
        _write_and_read_everywhere(net, "bft-asset")
        heights = net.status()["channels"][0]["heights"]
        assert len(set(heights.values())) >= 1
    assert leftover_processes(net.state_dir) == []


TWO_PEERS_31 = """
apiVersion: baas/v1alpha1
kind: Network
metadata: {name: twopeers}
spec:
  fabric: {version: "3.1"}
  domain: example.com
  organizations:
    - name: ord
      mspId: OrdMSP
      orderers: [{name: orderer0}, {name: orderer1}, {name: orderer2}]
    - name: org1
      mspId: Org1MSP
      peers: [{name: peer0, anchor: true}, {name: peer1}]
      users: [alice]
    - name: org2
      mspId: Org2MSP
      peers: [{name: peer0, anchor: true}, {name: peer1}]
  channels:
    - {name: mychannel, organizations: [org1, org2]}
  chaincodes:
    - {name: basic, channel: mychannel, version: "1.0", path: CHAINCODE}
"""


def test_every_peer_gets_blocks_on_3_1(home: Path, tmp_path: Path) -> None:
    """Defect (a): on 3.x a non-leader peer never received blocks. With two peers per org,
    every peer — not only the endorsing anchors — must serve the new asset."""
    install = fabric_install_or_skip("3.1.5")
    file = tmp_path / "twopeers.yaml"
    file.write_text(
        TWO_PEERS_31.replace("CHAINCODE", str(EXAMPLES / "chaincode" / "asset-transfer"))
    )
    with up_network(file, install=install) as net:
        _write_and_read_everywhere(net, "every-peer")
    assert leftover_processes(net.state_dir) == []


def test_single_org_runs_peers_and_orderers(home: Path) -> None:
    """examples/minimal.yaml: one organisation with a peer and an orderer."""
    install = fabric_install_or_skip("2.5.16")
    with up_network(EXAMPLES / "minimal.yaml", install=install) as net:
        state = net.status()
        assert state["running"]
        assert [c["name"] for c in state["channels"]] == ["mychannel"]
        assert all(h and h >= 1 for h in state["channels"][0]["heights"].values())
    assert leftover_processes(net.state_dir) == []


def test_loaded_warnings_reach_up(home: Path) -> None:
    """The service layer carries validation warnings (minimal.yaml: one etcdraft consenter)."""
    install = fabric_install_or_skip("2.5.16")
    loaded = topology.load(EXAMPLES / "minimal.yaml")
    assert loaded.warnings
    with up_network(EXAMPLES / "minimal.yaml", install=install) as net:
        assert net.outcome.warnings == loaded.warnings


def test_interrupted_up_converges(home: Path) -> None:
    """Ctrl-C in the middle of ``baas up`` (SIGINT to the CLI process, at several moments):
    the next ``up`` converges, and the network works."""
    import subprocess
    import sys

    install = fabric_install_or_skip("2.5.16")
    example = EXAMPLES / "two-orgs.yaml"
    env = {**os.environ, "FABRIC_BIN": str(install.root)}
    for delay in (0.3, 0.8, 1.2):
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "baas"), "up", str(example)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert "Traceback" not in err, err
    net = LocalNet(topology.load(example), install)
    try:
        net.up()
        assert not net.up().changed
        _write_and_read_everywhere(net, "after-interrupts")
    finally:
        services.down(net.loaded, target="local", purge=True)
    assert leftover_processes(net.state_dir) == []


def test_renewed_peer_restarts_alone(home: Path) -> None:
    """``baas pki renew`` of a peer, then ``up``: exactly that peer restarts (it reads its
    certificates at start-up), the orderer keeps running, and a further ``up`` is a no-op."""
    install = fabric_install_or_skip("2.5.16")
    with up_network(EXAMPLES / "minimal.yaml", install=install) as net:
        before = {n["name"]: n["pid"] for n in net.status()["nodes"]}
        services.pki_renew(net.loaded, identity="peer0.org1.example.com")
        net.up()
        after = {n["name"]: n for n in net.status()["nodes"]}
        assert after["peer0.org1.example.com"]["pid"] != before["peer0.org1.example.com"]
        assert after["peer0.org1.example.com"]["healthy"]
        assert after["orderer0.org1.example.com"]["pid"] == before["orderer0.org1.example.com"]
        assert not net.up().changed
