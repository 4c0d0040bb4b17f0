"""``baas chaincode list`` on real Fabric 2.5.16 (marked ``fabric``): after ``up`` of
examples/two-orgs.yaml the committed ``basic`` 1.0 at sequence 1 with its policy, each member's
approval naming its own package, and that package installed on every peer — through the
service and through the CLI's JSON and text; an upgrade to 1.1 shows sequence 2 and the new
packages beside the old ones. On a network that does not run it exits 2 saying so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import topology
from baas import services
from baas.services import chaincode as calls
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import up_network

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(600)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BAAS = Path(sys.executable).parent / "baas"


def _baas(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BAAS), *args], capture_output=True, text=True, check=False)


def test_chaincode_list_after_up_and_an_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install = fabric_install_or_skip("2.5.16")
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FABRIC_BIN", str(install.root / "bin"))
    text = (EXAMPLES / "two-orgs.yaml").read_text()
    text = text.replace("path: chaincode/", f"path: {EXAMPLES}/chaincode/")
    file = tmp_path / "two-orgs.yaml"
    file.write_text(text)

    refused = _baas("chaincode", "list", str(file), "-o", "json")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "does not run on this machine" in refused.stdout

    with up_network(file, install=install) as net:
        listed = calls.chaincode_list(net.loaded).to_dict()
        [channel] = listed["channels"]
        assert channel["channel"] == "mychannel" and channel["error"] is None
        [basic] = channel["committed"]
        assert (basic["name"], basic["version"], basic["sequence"]) == ("basic", "1.0", 1)
        assert basic["endorsement"] == "AND('Org1MSP.peer','Org2MSP.peer')"
        assert basic["wantedVersion"] == "1.0" and basic["initRequired"] is False
        approved = {a["mspId"]: a["packageId"] for a in basic["approvals"]}
        assert set(approved) == {"Org1MSP", "Org2MSP"}
        assert all(p and p.startswith("basic_1.0:") for p in approved.values())
        peers = {p["peer"]: p for p in listed["peers"]}
        assert len(peers) == 4
        for peer in peers.values():
            org_msp = "Org1MSP" if peer["org"] == "org1" else "Org2MSP"
            assert approved[org_msp] in {p["packageId"] for p in peer["packages"]}

        as_json = _baas("chaincode", "list", str(file), "-o", "json")
        assert as_json.returncode == 0, as_json.stderr
        assert json.loads(as_json.stdout)["channels"] == listed["channels"]
        as_text = _baas("chaincode", "list", str(file))
        assert as_text.returncode == 0, as_text.stderr
        assert "basic 1.0 sequence 1" in as_text.stdout
        assert "endorsement AND('Org1MSP.peer','Org2MSP.peer')" in as_text.stdout

        upgraded = tmp_path / "two-orgs-1.1.yaml"
        upgraded.write_text(text.replace('version: "1.0"', 'version: "1.1"'))
        net.loaded = topology.load(upgraded)
        net.up()
        after = calls.chaincode_list(net.loaded).to_dict()
        [basic] = after["channels"][0]["committed"]
        assert (basic["version"], basic["sequence"]) == ("1.1", 2)
        assert all(a["packageId"].startswith("basic_1.1:") for a in basic["approvals"])
        labels = {p["label"] for peer in after["peers"] for p in peer["packages"]}
        assert {"basic_1.0", "basic_1.1"} <= labels
        assert services.smoke(net.loaded, target="local").value.passed
