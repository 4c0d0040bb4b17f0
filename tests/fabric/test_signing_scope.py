"""``up`` signs only as the organisations it is allowed to (``signers``), on real Fabric 2.5.16
(marked ``fabric``): the boundary the REST API gives a token scoped to one organisation.

Two-orgs plus a channel only org1 is in, with its own chaincode. With ``signers={org1}``:
a changed policy of the shared chaincode is refused before anything is installed or approved
(the committed definition stays and keeps serving); a new anchor peer of org2 (a config update
every channel organisation signs) is refused before it is submitted; a new version of org1's own
chaincode goes through, approved and committed by org1 alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import topology
from baas import services
from baas.errors import SigningRefused
from baas.fabric import lifecycle
from baas.fabric.client import Contract
from baas.network import config as channel_config
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import LocalNet, asset_args, up_network

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(600)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHAINCODE = EXAMPLES / "chaincode" / "asset-transfer"
ORG1_ONLY = """\
    - name: org1only
      organizations: [org1]
      orderers: [ordererorg]
"""
MINE = """\
    - name: mine
      channel: org1only
      version: "{version}"
      path: {path}
"""
SHARED = "endorsement: \"AND('Org1MSP.peer','Org2MSP.peer')\""


def _topology(
    folder: Path, *, policy: str = SHARED, mine: str = "1.0", anchor: bool = False
) -> Path:
    text = (EXAMPLES / "two-orgs.yaml").read_text()
    text = text.replace("path: chaincode/asset-transfer", f"path: {CHAINCODE}")
    text = text.replace("  chaincodes:\n", ORG1_ONLY + "  chaincodes:\n", 1)
    text = text.replace(SHARED, policy)
    text = text.rstrip("\n") + "\n" + MINE.format(version=mine, path=CHAINCODE)
    if anchor:  # org2 declares peer1 its anchor: a config update of mychannel
        text = text.replace(
            "        - name: peer1\n      users: [bob]",
            "        - name: peer1\n          anchor: true\n      users: [bob]",
        )
        assert "anchor: true" in text
    file = folder / f"scoped-{abs(hash((policy, mine, anchor)))}.yaml"
    file.write_text(text)
    return file


def _committed(net: LocalNet, channel: str, name: str) -> lifecycle.Definition:
    org1 = net.plan.org("org1")
    with net.access() as access:
        found = lifecycle.committed(
            access.peer(org1.peers[0]), access.admin(org1), channel=channel, name=name
        )
    assert found is not None
    return found


def _installed(net: LocalNet, org: str) -> list[str]:
    plan_org = net.plan.org(org)
    with net.access() as access:
        return sorted(lifecycle.installed(access.peer(plan_org.peers[0]), access.admin(plan_org)))


def _scoped_up(net: LocalNet, file: Path) -> object:
    loaded = topology.load(file)
    return services.up(
        loaded, target="local", fabric_bin=net.install.root, signers=frozenset({"org1"})
    )


def test_up_signs_only_for_the_allowed_organisation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install = fabric_install_or_skip("2.5.16")
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    with up_network(_topology(tmp_path), install=install) as net:
        basic = _committed(net, "mychannel", "basic")
        org2_packages = _installed(net, "org2")

        with pytest.raises(SigningRefused) as refused:
            _scoped_up(net, _topology(tmp_path, policy="endorsement: \"AND('Org1MSP.peer')\""))
        assert refused.value.refused == ["org2"]
        assert "approving chaincode basic" in refused.value.message
        assert _committed(net, "mychannel", "basic") == basic
        assert _installed(net, "org2") == org2_packages
        assert services.smoke(net.loaded, target="local").value.passed

        with net.access() as access:
            before = channel_config.current_config(access, net.plan.channels[0]).sequence
        with pytest.raises(SigningRefused) as refused:
            _scoped_up(net, _topology(tmp_path, anchor=True))
        assert "config update of channel mychannel" in refused.value.message
        assert set(refused.value.refused) == {"org2", "ordererorg"}
        with net.access() as access:
            after = channel_config.current_config(access, net.plan.channels[0]).sequence
        assert after == before

        mine = _committed(net, "org1only", "mine")
        _scoped_up(net, _topology(tmp_path, mine="1.1"))
        upgraded = _committed(net, "org1only", "mine")
        assert (upgraded.version, upgraded.sequence) == ("1.1", mine.sequence + 1)
        assert _committed(net, "mychannel", "basic") == basic
        net.loaded = topology.load(_topology(tmp_path, mine="1.1"))
        org1 = net.plan.org("org1")
        with net.access() as access:
            contract = Contract(
                access.peer(org1.peers[0]),
                access.user(org1, org1.users[0]),
                channel="org1only",
                chaincode="mine",
            )
            assert contract.submit("CreateAsset", *asset_args("scoped")).valid
