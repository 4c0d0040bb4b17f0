"""``baas chaincode deliver`` on real Fabric 2.5.16 (marked ``fabric``), as a user runs it:
examples/two-orgs.yaml up, then ``basic`` 1.1 delivered (the file's one line changed, every
comment kept, sequence 2, the asset written before still read); the same again changes
nothing; a new chaincode added to the file and committed; an invalid policy refused with the
file untouched; every delivery in the network's history."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from baas.services import chaincode as calls
from baas.services.delivery import history_file
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import asset_args, up_network

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(600)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BAAS = Path(sys.executable).parent / "baas"


def _deliver(file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BAAS), "chaincode", "deliver", str(file), *args, "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_deliver_upgrades_adds_and_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install = fabric_install_or_skip("2.5.16")
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FABRIC_BIN", str(install.root / "bin"))
    original = (EXAMPLES / "two-orgs.yaml").read_text()
    text = original.replace("path: chaincode/", f"path: {EXAMPLES}/chaincode/")
    file = tmp_path / "two-orgs.yaml"
    file.write_text(text)
    with up_network(file, install=install) as net:
        calls.invoke(net.loaded, chaincode="basic", function="CreateAsset", args=asset_args("v1"))

        upgraded = _deliver(file, "--name", "basic", "--version", "1.1")
        assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        done = json.loads(upgraded.stdout)
        assert done["edit"] == "updated" and done["changed"] is True
        assert '-      version: "1.0"' in done["diff"] and '+      version: "1.1"' in done["diff"]
        assert [p["name"] for p in done["phases"]] == ["build", "chaincode"]
        assert (done["committed"]["version"], done["committed"]["sequence"]) == ("1.1", 2)
        assert file.read_text() == text.replace('version: "1.0"', 'version: "1.1"', 1)
        read = calls.query(net.loaded, chaincode="basic", function="ReadAsset", args=["v1"])
        assert "v1" in read.value.text

        again = _deliver(file, "--name", "basic", "--version", "1.1")
        assert again.returncode == 0, again.stdout + again.stderr
        repeat = json.loads(again.stdout)
        assert repeat["edit"] == "unchanged" and repeat["changed"] is False
        assert repeat["committed"]["sequence"] == 2

        added = _deliver(
            file, "--name", "second", "--path", str(EXAMPLES / "chaincode" / "asset-transfer")
        )
        assert added.returncode == 0, added.stdout + added.stderr
        second = json.loads(added.stdout)
        assert second["edit"] == "added" and second["channel"] == "mychannel"
        assert (second["committed"]["version"], second["committed"]["sequence"]) == ("1.0", 1)
        assert "- name: second" in file.read_text()

        before = file.read_text()
        refused = _deliver(file, "--name", "basic", "--endorsement", "AND('Org9MSP.peer')")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "Org9MSP" in refused.stdout and "spec.chaincodes[0].endorsement" in refused.stdout
        assert file.read_text() == before

        lines = history_file("supplychain").read_text().splitlines()
        outcomes = [(e["chaincode"], e["edit"], e["outcome"]) for e in map(json.loads, lines)]
        assert outcomes == [
            ("basic", "updated", "delivered"),
            ("basic", "unchanged", "delivered"),
            ("second", "added", "delivered"),
        ]
