"""Java chaincode on the local runtime against Fabric's own binaries (marked ``fabric``).

examples/two-orgs.yaml with its chaincode replaced by examples/chaincode/asset-transfer-java:
``up`` builds it with Maven (``mvn -q -B -DskipTests package``, once per digest of its files),
serves the shaded jar as a chaincode-as-a-service server (``java -jar``, the shim's
ContractRouter in server mode), and an asset created endorsed by both organisations is read back
on the other organisation's peer. Skips, saying why, where Fabric 2.5.16 is not installed or
Maven cannot build the example here (no ``mvn``/``java``, or Maven Central unreachable).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baas.errors import OperationError
from baas.runtimes.local import chaincode as chaincode_servers
from baas.services import chaincode as chaincode_calls
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import (
    asset_args,
    leftover_processes,
    read_when_committed,
    two_orgs_with,
    up_network,
)

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(900)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
JAVA_CHAINCODE = EXAMPLES / "chaincode" / "asset-transfer-java"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def java_example_built_or_skip() -> None:
    """Build the example into the default chaincode cache (what `up` uses) or skip saying why:
    Maven or a JDK missing, or Maven unable to download the shim from Maven Central."""
    try:
        chaincode_servers.prepare(chaincode_servers.detect(JAVA_CHAINCODE))
    except OperationError as exc:
        pytest.skip(f"cannot build the Java example here: {exc.message}")


def test_java_chaincode_is_built_with_maven_and_serves_both_orgs(
    home: Path, tmp_path: Path
) -> None:
    install = fabric_install_or_skip("2.5.16")
    java_example_built_or_skip()
    file = two_orgs_with(JAVA_CHAINCODE, tmp_path / "two-orgs-java.yaml", name="javanet")
    with up_network(file, install=install) as net:
        assert any("committed basic" in c for c in net.result.phases[-1].changes)
        assert any("build skipped" in line for line in net.progress), net.progress
        servers = net.status()["chaincodeServers"]
        assert servers, net.status()
        created = chaincode_calls.invoke(
            net.loaded, chaincode="basic", function="CreateAsset", args=asset_args("java-1")
        )
        assert (created.value.block or 0) > 0
        raw = read_when_committed(net.loaded, asset="java-1", peer="peer1.org2.example.com")
        assert (
            raw == b'{"AppraisedValue":300,"Color":"blue","ID":"java-1","Owner":"Tomoko","Size":5}'
        )
        assert json.loads(raw)["Owner"] == "Tomoko"
    assert leftover_processes(net.state_dir) == []
