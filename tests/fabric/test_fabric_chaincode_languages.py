"""TypeScript chaincode on the local runtime against Fabric's own binaries (marked ``fabric``).

examples/two-orgs.yaml with its chaincode replaced by examples/chaincode/asset-transfer-ts:
``up`` builds it (``npm ci`` + ``npm run build``), serves the built main, and an asset created
endorsed by both organisations is read back on the other organisation's peer. A TypeScript
chaincode that does not compile makes ``up`` fail within seconds naming the compiler's error,
never as the chaincode server's 60 s timeout. Both skip, saying how to provide binaries, where
Fabric 2.5.16 is not installed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from baas.errors import OperationError, UsageError
from baas.services import chaincode as chaincode_calls
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import (
    asset_args,
    leftover_processes,
    read_when_committed,
    two_orgs_with,
    up_network,
)

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(600)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TS_CHAINCODE = EXAMPLES / "chaincode" / "asset-transfer-ts"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_typescript_chaincode_is_built_and_serves_both_orgs(home: Path, tmp_path: Path) -> None:
    install = fabric_install_or_skip("2.5.16")
    file = two_orgs_with(TS_CHAINCODE, tmp_path / "two-orgs-ts.yaml", name="tsnet")
    with up_network(file, install=install) as net:
        assert any("committed basic" in c for c in net.result.phases[-1].changes)
        assert any("npm run build: tsc" in line or "build skipped" in line for line in net.progress)
        servers = net.status()["chaincodeServers"]
        assert servers, net.status()
        created = chaincode_calls.invoke(
            net.loaded, chaincode="basic", function="CreateAsset", args=asset_args("ts-1")
        )
        assert (created.value.block or 0) > 0
        raw = read_when_committed(net.loaded, asset="ts-1", peer="peer1.org2.example.com")
        assert json.loads(raw) == {
            "AppraisedValue": 300,
            "Color": "blue",
            "ID": "ts-1",
            "Owner": "Tomoko",
            "Size": 5,
        }
    assert leftover_processes(net.state_dir) == []


def test_typescript_that_does_not_compile_fails_up_in_seconds(home: Path, tmp_path: Path) -> None:
    install = fabric_install_or_skip("2.5.16")
    broken = tmp_path / "broken-ts"
    shutil.copytree(TS_CHAINCODE, broken, ignore=shutil.ignore_patterns("node_modules", "dist"))
    contract = broken / "src" / "assetTransfer.ts"
    contract.write_text(
        contract.read_text().replace(
            "const previous = asset.Owner;", "const previous: number = asset.Owner;"
        )
    )
    file = two_orgs_with(broken, tmp_path / "two-orgs-broken.yaml", name="tsbroken")
    with pytest.raises(UsageError) as caught, up_network(file, install=install):
        pass
    message = caught.value.message
    assert f"chaincode folder {broken}" in message
    assert "src/assetTransfer.ts(" in message
    assert "error TS2322" in message


def test_a_javascript_server_that_dies_at_start_fails_up_with_its_stderr(
    home: Path, tmp_path: Path
) -> None:
    """A JavaScript chaincode whose main requires a missing module: its server exits at once
    (MODULE_NOT_FOUND); `up` fails on the supervisor's verdict with node's own error, not on the
    listening timeout (whose message is another)."""
    install = fabric_install_or_skip("2.5.16")
    broken = tmp_path / "broken-js"
    shutil.copytree(
        EXAMPLES / "chaincode" / "asset-transfer",
        broken,
        ignore=shutil.ignore_patterns("node_modules"),
    )
    index = broken / "index.js"
    index.write_text(index.read_text().replace("./lib/assetTransfer", "./lib/gone"))
    file = two_orgs_with(broken, tmp_path / "two-orgs-js.yaml", name="jsbroken")
    with pytest.raises(OperationError) as caught, up_network(file, install=install):
        pass
    assert "chaincode server cc-org" in caught.value.message
    assert "Cannot find module './lib/gone'" in caught.value.message
