"""Per-organisation approval gates on real Fabric 2.5.16 (marked ``fabric``): ``basic`` on
examples/two-orgs.yaml switched to ``approval: manual`` and delivered as 1.1 by org1 alone is
approved by Org1MSP only and not committed — 1.0 keeps serving, and ``up`` (every key at
hand, nobody's consent) approves nothing; org2's ``baas chaincode approve`` commits it as the
next sequence; approving again changes nothing; a stranger organisation is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import topology
from baas.services import chaincode as calls
from baas.services.delivery import read_history
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import asset_args, up_network

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(600)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BAAS = Path(sys.executable).parent / "baas"


def _baas(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BAAS), "chaincode", *args, "-o", "json"], capture_output=True, text=True, check=False
    )


def _committed(loaded: topology.LoadedTopology) -> tuple[str, int]:
    listed = calls.chaincode_list(loaded, target="local").value
    found = next(c for ch in listed.channels for c in ch.committed if c.name == "basic")
    return found.version, found.sequence


def test_manual_approval_commits_only_once_both_orgs_approved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install = fabric_install_or_skip("2.5.16")
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FABRIC_BIN", str(install.root / "bin"))
    text = (EXAMPLES / "two-orgs.yaml").read_text()
    file = tmp_path / "two-orgs.yaml"
    file.write_text(text.replace("path: chaincode/", f"path: {EXAMPLES}/chaincode/"))
    with up_network(file, install=install) as net:
        calls.invoke(net.loaded, chaincode="basic", function="CreateAsset", args=asset_args("a0"))

        asked = _baas(
            "deliver", str(file), "--name", "basic", "--version", "1.1", "--approval", "manual",
            "--as", "org1",
        )  # fmt: skip
        assert asked.returncode == 0, asked.stdout + asked.stderr
        done = json.loads(asked.stdout)
        assert done["awaiting"] == (
            "1.1 (sequence 2) on mychannel: approved by Org1MSP; awaiting Org2MSP"
        ), done
        assert "approval: manual" in file.read_text()
        net.loaded = topology.load(file)
        assert _committed(net.loaded) == ("1.0", 1)
        served = calls.invoke(
            net.loaded, chaincode="basic", function="CreateAsset", args=asset_args("a1")
        )
        assert served.value.tx_id

        again = net.up()
        changes = [c for p in again.phases for c in p.changes]
        assert not any(c.startswith("approved") for c in changes), changes
        assert any(c.startswith("awaiting basic: ") for c in changes), changes
        assert _committed(net.loaded) == ("1.0", 1)

        stranger = _baas("approve", str(file), "--name", "basic", "--as", "org9")
        assert stranger.returncode == 2, stranger.stdout + stranger.stderr
        assert "org9 is not a member of channel mychannel" in stranger.stdout

        approved = _baas("approve", str(file), "--name", "basic", "--as", "org2")
        assert approved.returncode == 0, approved.stdout + approved.stderr
        final = json.loads(approved.stdout)
        assert final["awaiting"] is None
        assert (final["committed"]["version"], final["committed"]["sequence"]) == ("1.1", 2)
        read = calls.query(net.loaded, chaincode="basic", function="ReadAsset", args=["a1"])
        assert "a1" in read.value.text
        calls.invoke(net.loaded, chaincode="basic", function="CreateAsset", args=asset_args("a2"))

        repeat = _baas("approve", str(file), "--name", "basic", "--as", "org2")
        assert repeat.returncode == 0, repeat.stdout + repeat.stderr
        assert json.loads(repeat.stdout)["changed"] is False

        oldest_first = reversed(read_history("supplychain", chaincode="basic"))
        outcomes = [(e["outcome"], e["sequence"]) for e in oldest_first]
        assert outcomes == [("awaiting approval", 1), ("delivered", 2), ("delivered", 2)]
