"""``baas chaincode rollback`` on real Fabric 2.5.16 (marked ``fabric``): examples/two-orgs.yaml
with the sample chaincode copied to a folder of the test's own; right after ``up`` there is no
earlier version to return to (exit 2, saying so); 1.1 — the same folder with a ``Hello``
function added — is delivered and answers; the rollback delivers 1.0 from the copy baas kept
when 1.0 was defined, as sequence 3, even though the folder now holds 1.1's code: ``Hello``
is gone again and the ledger is intact."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import topology
from baas.errors import BaasError
from baas.services import chaincode as calls
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import asset_args, up_network

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(600)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BAAS = Path(sys.executable).parent / "baas"
HELLO = """
    async Hello(ctx) {
        return 'hello from 1.1';
    }

    async InitLedger(ctx) {"""


def _baas(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BAAS), "chaincode", *args, "-o", "json"], capture_output=True, text=True, check=False
    )


def test_rollback_serves_the_previous_versions_code_as_the_next_sequence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install = fabric_install_or_skip("2.5.16")
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FABRIC_BIN", str(install.root / "bin"))
    code = tmp_path / "cc"
    shutil.copytree(
        EXAMPLES / "chaincode" / "asset-transfer",
        code,
        ignore=shutil.ignore_patterns("node_modules"),
    )
    text = (EXAMPLES / "two-orgs.yaml").read_text()
    file = tmp_path / "two-orgs.yaml"
    file.write_text(text.replace("path: chaincode/asset-transfer", f"path: {code}"))
    with up_network(file, install=install) as net:
        calls.invoke(net.loaded, chaincode="basic", function="CreateAsset", args=asset_args("r1"))

        nothing = _baas("rollback", str(file), "--name", "basic")
        assert nothing.returncode == 2, nothing.stdout + nothing.stderr
        assert "no version of basic before 1.0 is kept" in nothing.stdout

        contract = code / "lib" / "assetTransfer.js"
        source = contract.read_text()
        contract.write_text(source.replace("\n    async InitLedger(ctx) {", HELLO, 1))
        upgraded = _baas("deliver", str(file), "--name", "basic", "--version", "1.1")
        assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        net.loaded = topology.load(file)
        hello = calls.query(net.loaded, chaincode="basic", function="Hello", args=[])
        assert hello.value.text == "hello from 1.1"

        back = _baas("rollback", str(file), "--name", "basic")
        assert back.returncode == 0, back.stdout + back.stderr
        done = json.loads(back.stdout)
        assert (done["committed"]["version"], done["committed"]["sequence"]) == ("1.0", 3)
        assert '+      version: "1.0"' in done["diff"]
        net.loaded = topology.load(file)
        entry = net.loaded.network.spec.chaincodes[0]
        assert entry.version == "1.0" and Path(entry.path).parts[-2:] == ("basic", "1.0")
        with pytest.raises(BaasError, match="does not exist"):
            calls.query(net.loaded, chaincode="basic", function="Hello", args=[])
        read = calls.query(net.loaded, chaincode="basic", function="ReadAsset", args=["r1"])
        assert "r1" in read.value.text
