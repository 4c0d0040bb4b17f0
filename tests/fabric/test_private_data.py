"""Private data on real Fabric 2.5.16 (marked ``fabric``): examples/private-data.yaml up
(two organisations; collection ``org1Private`` only org1 holds, ``shared`` both hold); the
committed definition carries both collections; a member writes a value through the transient
map and reads it back; a non-member's read is refused; baas smoke's private-data check passes;
delivering a changed collection set (``--collections FILE``) is the next sequence, and the
same set again changes nothing."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import topology
from baas import services
from baas.errors import BaasError
from baas.fabric.client import Contract
from baas.fabric.identity import SigningIdentity
from baas.fabric.peer import Peer
from baas.services import chaincode as calls
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import up_network

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(900)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BAAS = Path(sys.executable).parent / "baas"
DELIVER = (str(BAAS), "chaincode", "deliver")


def _committed(loaded: topology.LoadedTopology, name: str) -> dict[str, Any]:
    """The committed definition of ``name`` as ``baas chaincode list`` reports it."""
    listed = calls.chaincode_list(loaded, target="local").value.to_dict()
    found = [cc for ch in listed["channels"] for cc in ch["committed"] if cc["name"] == name]
    assert len(found) == 1, listed
    return dict(found[0])


def test_private_data_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install = fabric_install_or_skip("2.5.16")
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    assert install.root is not None
    monkeypatch.setenv("FABRIC_BIN", str(install.root / "bin"))
    text = (EXAMPLES / "private-data.yaml").read_text()
    file = tmp_path / "private-data.yaml"
    file.write_text(text.replace("path: chaincode/", f"path: {EXAMPLES}/chaincode/"))
    with up_network(file, install=install) as net:
        committed = _committed(net.loaded, "assets")
        assert committed["sequence"] == 1
        collections = committed["collections"]
        assert [c["name"] for c in collections] == ["org1Private", "shared"]
        first = collections[0]
        assert first["memberOnlyRead"] and first["endorsementPolicy"] == "AND('Org1MSP.peer')"

        plan = net.plan
        org1, org2 = plan.org("org1"), plan.org("org2")
        key, value = f"k-{secrets.token_hex(4)}", secrets.token_hex(8)
        with calls._access(net.loaded, plan) as access:
            alice = access.user(org1, org1.users[0])
            bob = access.user(org2, org2.users[0])
            on_org1 = access.peer(org1.anchor_peers[0])

            def contract(identity: SigningIdentity, peer: Peer = on_org1) -> Contract:
                return Contract(peer, identity, channel="mychannel", chaincode="assets")

            written = contract(alice).submit(
                "PutPrivate", "org1Private", key, transient={"value": value.encode()}
            )
            assert written.valid, written.code
            read = contract(alice).evaluate(
                "GetPrivate", "org1Private", key, target_orgs=["Org1MSP"]
            )
            assert read.decode() == value
            with pytest.raises(BaasError) as refused:
                contract(bob).evaluate("GetPrivate", "org1Private", key, target_orgs=["Org1MSP"])
            assert "read access" in refused.value.message or "permission" in refused.value.message
            # org2's own peer does not hold org1's private data at all
            with pytest.raises(BaasError):
                contract(bob, access.peer(org2.anchor_peers[0])).evaluate(
                    "GetPrivate", "org1Private", key, target_orgs=["Org2MSP"]
                )

        report = services.smoke(net.loaded, target="local").value
        checks = {c.name: c for c in report.checks}
        private = checks["private data assets"]
        assert private.status == "passed", private.message
        assert "org1Private" in private.message and "refused" in private.message
        assert report.passed, [c.to_dict() for c in report.checks if c.status == "failed"]

        # a changed collection set is the next sequence; the same set again is no change
        config = [
            *json.loads(json.dumps(collections)),
            {"name": "extra", "policy": "OR('Org2MSP.member')"},
        ]
        for entry in config:
            if entry.get("endorsementPolicy"):
                entry["endorsementPolicy"] = {"signaturePolicy": "OR('Org1MSP.peer')"}
            entry["policy"] = entry["policy"].replace("AND(", "OR(")
        cols = tmp_path / "collections_config.json"
        cols.write_text(json.dumps(config))
        for sequence in (2, 2):
            done = subprocess.run(
                [*DELIVER, str(file), "--name", "assets", "--collections", str(cols), "-o", "json"],
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            assert json.loads(done.stdout)["committed"]["sequence"] == sequence
        assert "collections: collections_config.json" in file.read_text()
        again = _committed(net.loaded, "assets")
        assert [c["name"] for c in again["collections"]] == ["org1Private", "shared", "extra"]
