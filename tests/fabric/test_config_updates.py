"""Day-2 changes reaching the channels, on real Fabric (marked ``fabric``): revocation,
consenter rotation under load, organisations joining and leaving a live channel, a new peer
and a new orderer — each checked in the decoded channel config, field by field — and the
Python ``compute_update`` checked against Fabric's own ``configtxlator``.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from cryptography import x509

from baas import services
from baas.errors import BaasError
from baas.fabric import configupdate
from baas.fabric.client import Contract
from baas.fabric.identity import SigningIdentity
from baas.network import config as channel_config
from baas.network.crypto import CryptoTree
from baas.runtimes.local import ports
from baas.smoke.load import LoadOptions, LoadResult, run_load
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import LocalNet, up_network

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(900)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHAINCODE = EXAMPLES / "chaincode" / "asset-transfer"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _config(net: LocalNet) -> configupdate.Config:
    with net.access() as access:
        return channel_config.current_config(access, net.plan.channels[0])


def _msp(config: configupdate.Config, msp_id: str) -> object:
    from fabric_protos.msp import msp_config_pb2

    value = config.channel_group.groups["Application"].groups[msp_id].values["MSP"].value
    return msp_config_pb2.FabricMSPConfig.FromString(
        msp_config_pb2.MSPConfig.FromString(value).config
    )


def _invoke(net: LocalNet, identity: SigningIdentity, asset: str) -> str:
    org1 = net.plan.org("org1")
    with net.access() as access:
        contract = Contract(
            access.peer(org1.peers[0]), identity, channel="mychannel", chaincode="basic"
        )
        return contract.submit("CreateAsset", asset, "blue", "1", "x", "2").code


def test_revocation_takes_effect(home: Path) -> None:
    install = fabric_install_or_skip("2.5.16")
    with up_network(EXAMPLES / "two-orgs.yaml", install=install) as net:
        org1 = net.plan.org("org1")
        crypto = CryptoTree(net.state_dir / "crypto")
        alice_dir = crypto.user(org1, "alice@org1.example.com").msp
        old = SigningIdentity.from_msp_dir("Org1MSP", alice_dir)
        assert _invoke(net, old, "before") == "VALID"
        serial = old.certificate.serial_number
        kept = net.state_dir.parent / "alice-old"
        shutil.copytree(alice_dir, kept)

        services.pki_revoke(net.loaded, "alice@org1.example.com")
        pending = services.plan_changes(net.loaded, target="local").value.lines()
        assert any("Org1MSP/MSP" in line and "CRLs 0 → 2" in line for line in pending), pending
        net.up()

        msp = _msp(_config(net), "Org1MSP")
        revoked = {
            r.serial_number
            for pem in msp.revocation_list  # type: ignore[attr-defined]
            for r in x509.load_pem_x509_crl(pem)
        }
        assert serial in revoked
        with pytest.raises(BaasError, match="access denied"):
            _invoke(net, SigningIdentity.from_msp_dir("Org1MSP", kept), "after")
        # up issued alice a replacement certificate, which works
        assert _invoke(net, SigningIdentity.from_msp_dir("Org1MSP", alice_dir), "new") == "VALID"
        assert not services.plan_changes(net.loaded, target="local").value.lines()


def _consenter_certs(net: LocalNet) -> dict[str, bytes]:
    return configupdate.consenter_certs(_config(net))


def test_every_orderer_rotated_under_load_loses_nothing(home: Path) -> None:
    """renew --new-key of all three orderers, one up while a load probe runs: every
    consenter ends with its new certificate in the channel, ordering never stopped for long,
    and every transaction the probe saw committed is in the ledgers."""
    install = fabric_install_or_skip("2.5.16")
    with up_network(EXAMPLES / "two-orgs.yaml", install=install) as net:
        assert services.smoke(net.loaded, target="local").value.passed
        before = _consenter_certs(net)
        for n in range(3):
            services.pki_renew(
                net.loaded, identity=f"orderer{n}.ordererorg.example.com", new_key=True
            )
        box: dict[str, LoadResult] = {}
        with net.access() as access:
            worker = threading.Thread(
                target=lambda: box.setdefault(
                    "r",
                    run_load(
                        access,
                        net.plan.channels[0],
                        LoadOptions(duration=20, concurrency=4, commit_timeout=4.0),
                    ),
                )
            )
            worker.start()
            result = net.up()
            worker.join()
        rotated = [c for p in result.phases for c in p.changes if c.startswith("rotated")]
        assert len(rotated) == 3, result.to_dict()
        after = _consenter_certs(net)
        assert set(after) == set(before)
        crypto = CryptoTree(net.state_dir / "crypto")
        ordererorg = net.plan.org("ordererorg")
        for node in ordererorg.orderers:
            endpoint = str(ports.load_addresses(net.state_dir).cluster(node))
            tls = crypto.node(ordererorg, node).tls_cert.read_bytes()
            assert after[endpoint] == tls + tls and before[endpoint] != after[endpoint]
        load = box["r"]
        assert load.committed > 0
        assert load.timeline[-1][1] > 0
        from tests.fabric.test_smoke import _ledger_tx_ids

        with net.access() as access:
            for node in net.plan.org("org2").peers:
                missing = set(load.committed_tx_ids) - _ledger_tx_ids(
                    access, node.fqdn, "mychannel"
                )
                assert not missing, f"{len(missing)} committed transactions lost on {node.fqdn}"
        assert services.smoke(net.loaded, target="local").value.passed


THREE_ORGS_EXTRA = """
    - name: org3
      mspId: Org3MSP
      peers: [{name: peer0, anchor: true}]
      users: [carol]
"""


def _topology(tmp_path: Path, *, org3: bool, peer2: bool = False, orderer3: bool = False) -> Path:
    text = (EXAMPLES / "two-orgs.yaml").read_text()
    text = text.replace("path: chaincode/asset-transfer", f"path: {CHAINCODE}")
    if orderer3:
        text = text.replace(
            "        - name: orderer2\n", "        - name: orderer2\n        - name: orderer3\n"
        )
    if peer2:
        text = text.replace(
            "        - name: peer1\n      users: [alice]",
            "        - name: peer1\n        - name: peer2\n      users: [alice]",
        )
    if org3:
        text = text.replace("  channels:\n", THREE_ORGS_EXTRA.lstrip("\n") + "  channels:\n", 1)
        text = text.replace("organizations: [org1, org2]", "organizations: [org1, org2, org3]")
    file = tmp_path / ("three-orgs.yaml" if org3 else "two-orgs-variant.yaml")
    file.write_text(text)
    return file


def test_organisation_joins_and_leaves(home: Path, tmp_path: Path) -> None:
    import topology

    install = fabric_install_or_skip("2.5.16")
    with up_network(_topology(tmp_path, org3=False), install=install) as net:
        net.loaded = topology.load(_topology(tmp_path, org3=True))
        net.up()
        config = _config(net)
        assert "Org3MSP" in config.channel_group.groups["Application"].groups
        org3 = net.plan.org("org3")
        with net.access() as access:
            carol = access.user(org3, "carol@org3.example.com")
            contract = Contract(
                access.peer(org3.peers[0]), carol, channel="mychannel", chaincode="basic"
            )
            outcome = contract.submit(
                "CreateAsset",
                "org3-asset",
                "red",
                "1",
                "carol",
                "5",
                endorsing_orgs=["Org1MSP", "Org2MSP", "Org3MSP"],
            )
            assert outcome.valid, outcome
            assert b"org3-asset" in contract.evaluate("ReadAsset", "org3-asset")
        assert services.smoke(net.loaded, target="local").value.passed

        net.loaded = topology.load(_topology(tmp_path, org3=False))
        net.up()
        assert "Org3MSP" not in _config(net).channel_group.groups["Application"].groups
        with net.access() as access:
            org1 = net.plan.org("org1")
            contract = Contract(
                access.peer(org1.peers[0]), carol, channel="mychannel", chaincode="basic"
            )
            with pytest.raises(BaasError):
                contract.evaluate("ReadAsset", "org3-asset")
        assert services.smoke(net.loaded, target="local").value.passed


def test_new_peer_and_new_orderer(home: Path, tmp_path: Path) -> None:
    import topology

    install = fabric_install_or_skip("2.5.16")
    with up_network(_topology(tmp_path, org3=False), install=install) as net:
        net.loaded = topology.load(_topology(tmp_path, org3=False, peer2=True, orderer3=True))
        net.up()
        certs = _consenter_certs(net)
        assert len(certs) == 4
        report = services.smoke(net.loaded, target="local").value
        assert report.passed, [(c.name, c.message) for c in report.checks if not c.passed]


def test_compute_update_agrees_with_configtxlator(tmp_path: Path) -> None:
    """The Python compute_update gives the same update as Fabric's configtxlator for two
    configs configtxgen made (a changed BatchTimeout and an added organisation)."""
    from fabric_protos.common import configtx_pb2

    import topology
    from baas import plan as planning
    from baas.network import configtx, genesis
    from baas.network.converge import TreeConfigtxFiles
    from tests.support.topologies import ISLANDS

    install = fabric_install_or_skip("2.5.16")
    network, _ = topology.loads(ISLANDS)
    plan = planning.build(network)
    crypto = tmp_path / "crypto"
    import pki

    pki.generate(crypto, planning.pki_org_specs(network), planning.pki_options(network))

    class Addresses:
        listen_host = "127.0.0.1"

        def _at(self, n: object, k: int) -> object:
            from baas.addressing import Endpoint

            return Endpoint("127.0.0.1", 20000 + hash((str(n), k)) % 5000)

        def peer(self, n):  # type: ignore[no-untyped-def]
            return self._at(n, 1)

        def peer_chaincode(self, n):  # type: ignore[no-untyped-def]
            return self._at(n, 2)

        def orderer(self, n):  # type: ignore[no-untyped-def]
            return self._at(n, 3)

        def cluster(self, n):  # type: ignore[no-untyped-def]
            return self._at(n, 4)

        def admin(self, n):  # type: ignore[no-untyped-def]
            return self._at(n, 5)

        def operations(self, n):  # type: ignore[no-untyped-def]
            return self._at(n, 6)

        def chaincode(self, o, c):  # type: ignore[no-untyped-def]
            return self._at((o, c), 7)

    files = TreeConfigtxFiles(plan, CryptoTree(crypto))
    wider, _ = topology.loads(ISLANDS.replace("organizations: [b]", "organizations: [b, a]"))
    wider_plan = planning.build(wider)
    channel = plan.channels[1]

    def config_from(text: str) -> configupdate.Config:
        block = genesis.make_block(
            configtxgen=install.configtxgen,
            configtx_yaml=text,
            channel=channel.name,
            profile=channel.name,
        )
        return configupdate.config_of_bytes(block)

    base = configtx.configtx_yaml(plan, addresses=Addresses(), files=files)  # type: ignore[arg-type]
    cases = {
        "batch timeout": (
            configtx.configtx_yaml(plan, addresses=Addresses(), files=files, batch_timeout="250ms"),  # type: ignore[arg-type]
            ["/Channel/Orderer/BatchTimeout"],
        ),
        "organisation added": (
            configtx.configtx_yaml(
                wider_plan,
                addresses=Addresses(),  # type: ignore[arg-type]
                files=TreeConfigtxFiles(wider_plan, CryptoTree(crypto)),
            ),
            ["/Channel/Application/AMSP"],
        ),
    }
    original = config_from(base)
    (tmp_path / "original.pb").write_bytes(original.SerializeToString())
    for name, (text, paths) in cases.items():
        updated = config_from(text)
        ours = configupdate.compute_update(channel.name, original, updated)
        assert ours is not None, name
        (tmp_path / "updated.pb").write_bytes(updated.SerializeToString())
        subprocess.run(
            [
                str(install.binary("configtxlator")),
                "compute_update",
                "--channel_id",
                channel.name,
                "--original",
                str(tmp_path / "original.pb"),
                "--updated",
                str(tmp_path / "updated.pb"),
                "--output",
                str(tmp_path / "update.pb"),
            ],
            check=True,
            capture_output=True,
        )
        theirs = configtx_pb2.ConfigUpdate.FromString((tmp_path / "update.pb").read_bytes())
        assert ours == theirs, name
        described = configupdate.describe(ours, original)
        assert [c.path for c in described] == paths, (name, described)


def test_bft_consenter_rotation_on_3_1(home: Path) -> None:
    """renew --new-key of a BFT orderer (Fabric 3.1.5): the Orderers mapping gets its new TLS
    certificates, ordering goes on, smoke is green."""
    install = fabric_install_or_skip("3.1.5")
    with up_network(EXAMPLES / "bft.yaml", install=install) as net:
        before = _consenter_certs(net)
        services.pki_renew(net.loaded, identity="orderer1.ordererorg.example.com", new_key=True)
        result = net.up()
        rotated = [c for p in result.phases for c in p.changes if c.startswith("rotated")]
        assert rotated == [
            "rotated orderer1.ordererorg.example.com: consenter TLS certificate on mychannel"
        ]
        after = _consenter_certs(net)
        changed = [k for k in after if after[k] != before[k]]
        assert len(changed) == 1
        from fabric_protos.common import configuration_pb2

        group = _config(net).channel_group.groups["Orderer"]
        mapping = configuration_pb2.Orderers.FromString(group.values["Orderers"].value)
        assert group.policies["BlockValidation"].policy == configupdate.bft_block_validation(
            mapping
        )
        _smoke_green_within(net, 120.0)


def _smoke_green_within(net: LocalNet, seconds: float) -> None:
    """A rotated BFT orderer that missed the blocks cut while it restarted catches up when
    SmartBFT's heartbeats tell it it is behind (LeaderHeartbeatTimeout, 1 min by default):
    smoke turns green within that, not at once."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        report = services.smoke(net.loaded, target="local").value
        if report.passed or time.monotonic() > deadline:
            break
        time.sleep(2.0)
    assert report.passed, [(c.name, c.message) for c in report.checks if not c.passed]


def test_anchor_peer_change_and_orderer_limits(home: Path, tmp_path: Path) -> None:
    """Moving org1's anchor to peer1 updates AnchorPeers; adding two orderers at once, or
    removing consenters below a quorum, is refused with the reason before anything changes."""
    from fabric_protos.peer import configuration_pb2 as peer_config

    import topology

    install = fabric_install_or_skip("2.5.16")
    with up_network(_topology(tmp_path, org3=False), install=install) as net:
        anchored = "        - name: peer0\n          anchor: true\n        - name: peer1\n"
        moved_anchor = "        - name: peer0\n        - name: peer1\n          anchor: true\n"
        text = net.loaded.path.read_text().replace(
            anchored + "      users: [alice]", moved_anchor + "      users: [alice]"
        )
        moved = tmp_path / "moved.yaml"
        moved.write_text(text)
        net.loaded = topology.load(moved)
        net.up()
        value = _config(net).channel_group.groups["Application"].groups["Org1MSP"].values
        anchors = peer_config.AnchorPeers.FromString(value["AnchorPeers"].value).anchor_peers
        peer1 = net.plan.org("org1").peers[1]
        assert [(a.host, a.port) for a in anchors] == [
            ("127.0.0.1", ports.load_addresses(net.state_dir).peer(peer1).port)
        ]
        two_more = tmp_path / "two-more.yaml"
        two_more.write_text(
            text.replace(
                "        - name: orderer2\n",
                "        - name: orderer2\n        - name: orderer3\n        - name: orderer4\n",
            )
        )
        with pytest.raises(BaasError, match="one orderer per config update"):
            services.up(topology.load(two_more), target="local", fabric_bin=install.root)
        assert not (
            net.state_dir
            / "crypto"
            / "ordererOrganizations"
            / "ordererorg.example.com"
            / "orderers"
            / "orderer3.ordererorg.example.com"
        ).exists()


def test_orderer_added_then_removed(home: Path, tmp_path: Path) -> None:
    """A fourth Raft orderer joins as a consenter, then leaves again: the consenter set and
    the orderer endpoints follow the topology, and the channel keeps ordering throughout."""
    import topology

    install = fabric_install_or_skip("2.5.16")
    with up_network(_topology(tmp_path, org3=False), install=install) as net:
        net.loaded = topology.load(_topology(tmp_path, org3=False, orderer3=True))
        net.up()
        assert len(_consenter_certs(net)) == 4
        net.loaded = topology.load(_topology(tmp_path, org3=False))
        net.up()
        assert len(_consenter_certs(net)) == 3
        report = services.smoke(net.loaded, target="local").value
        assert report.passed, [(c.name, c.message) for c in report.checks if not c.passed]


def test_bft_orderer_added_on_3_1(home: Path, tmp_path: Path) -> None:
    """A fifth BFT orderer (Fabric 3.1.5) joins the consenter set; BlockValidation follows."""
    from fabric_protos.common import configuration_pb2

    import topology

    install = fabric_install_or_skip("3.1.5")
    text = (
        (EXAMPLES / "bft.yaml")
        .read_text()
        .replace("path: chaincode/asset-transfer", f"path: {CHAINCODE}")
    )
    first = tmp_path / "bft4.yaml"
    first.write_text(text)
    second = tmp_path / "bft5.yaml"
    second.write_text(
        text.replace(
            "        - name: orderer3\n", "        - name: orderer3\n        - name: orderer4\n"
        )
    )
    with up_network(first, install=install) as net:
        net.loaded = topology.load(second)
        net.up()
        group = _config(net).channel_group.groups["Orderer"]
        mapping = configuration_pb2.Orderers.FromString(group.values["Orderers"].value)
        assert len(mapping.consenter_mapping) == 5
        assert group.policies["BlockValidation"].policy == configupdate.bft_block_validation(
            mapping
        )
        _smoke_green_within(net, 120.0)
