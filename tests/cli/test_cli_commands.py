"""``baas --version``, ``validate``, ``plan`` and ``schema``, in-process; plus one run of the
installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from baas import __version__

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
TWO_ORGS = ROOT / "examples" / "two-orgs.yaml"

Cli = Callable[..., Any]


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"baas {__version__}"


def test_no_arguments_shows_help(cli: Cli) -> None:
    result = cli()
    assert result.code in (0, 2)
    assert "validate" in result.text and "Traceback" not in result.text


def test_unknown_command_exits_2(cli: Cli) -> None:
    result = cli("frobnicate")
    assert result.code == 2
    assert "Traceback" not in result.text


def test_validate_every_example(cli: Cli) -> None:
    assert len(EXAMPLES) >= 3
    result = cli("validate", *EXAMPLES)
    assert result.code == 0, result.text
    for path in EXAMPLES:
        assert f"ok {path}" in result.err
    assert "network 'supplychain', 3 organisations, 7 nodes, 1 channel, 1 chaincode" in result.err


def test_validate_warnings_exit_0(cli: Cli) -> None:
    result = cli("validate", ROOT / "examples" / "minimal.yaml")
    assert result.code == 0
    assert "warning: spec.channels[0]: channel 'mychannel' has 1 etcdraft consenter" in result.err
    assert "  fix: " in result.err


def test_validate_json(cli: Cli) -> None:
    result = cli("validate", "-o", "json", *EXAMPLES)
    assert result.code == 0
    report = json.loads(result.out)
    assert (report["kind"], report["apiVersion"], report["valid"]) == (
        "ValidationReport",
        "baas/v1alpha1",
        True,
    )
    data = report["files"]
    assert [item["file"] for item in data] == [str(p) for p in EXAMPLES]
    assert all(item["valid"] is True for item in data)
    minimal = next(item for item in data if item["file"].endswith("minimal.yaml"))
    (warning,) = minimal["diagnostics"]
    assert set(warning) == {"severity", "file", "path", "line", "column", "message", "hint"}
    assert (warning["severity"], warning["path"]) == ("warning", "spec.channels[0]")
    assert isinstance(warning["line"], int)
    assert warning in report["warnings"]


def test_validate_json_carries_the_text_summary(cli: Cli) -> None:
    """The network summary of ``validate``'s ok line, as fields."""
    text = cli("validate", TWO_ORGS)
    item = json.loads(cli("validate", "-o", "json", TWO_ORGS).out)["files"][0]
    assert (item["network"], item["organizations"], item["nodes"]) == ("supplychain", 3, 7)
    assert (item["channels"], item["chaincodes"]) == (1, 1)
    assert (
        f"ok {TWO_ORGS}: network 'supplychain', 3 organisations, 7 nodes, 1 channel, 1 chaincode"
        in text.err
    )


def test_validate_json_mixed(cli: Cli, write: Callable[..., Path]) -> None:
    bad = write("- not a mapping\n", "bad.yaml")
    result = cli("validate", "--output", "json", TWO_ORGS, bad)
    assert result.code == 2
    report = json.loads(result.out)
    assert report["valid"] is False
    good_item, bad_item = report["files"]
    assert good_item == {
        "file": str(TWO_ORGS),
        "valid": True,
        "network": "supplychain",
        "organizations": 3,
        "nodes": 7,
        "channels": 1,
        "chaincodes": 1,
        "diagnostics": [],
    }
    assert bad_item["valid"] is False and bad_item["file"] == str(bad)
    assert bad_item["diagnostics"][0]["message"] == "the document is a list, not a mapping"
    assert result.err == ""  # json mode keeps stderr quiet


def test_validate_reports_every_file(cli: Cli, write: Callable[..., Path]) -> None:
    one = write("", "one.yaml")
    two = write("kind: x\n", "two.yaml")
    result = cli("validate", one, TWO_ORGS, two)
    assert result.code == 2
    assert f"{one}: error: the file is empty" in result.err
    assert f"ok {TWO_ORGS}" in result.err
    assert f"{two}:1:1: error: " in result.err


def test_validate_missing_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("validate", tmp_path / "absent.yaml")
    assert result.code == 2
    assert "absent.yaml: error: no such file" in result.err


def test_validate_bad_output_format(cli: Cli) -> None:
    result = cli("validate", "-o", "xml", TWO_ORGS)
    assert result.code == 2
    assert "Traceback" not in result.text


def test_plan_json_shape(cli: Cli) -> None:
    result = cli("plan", "-o", "json", TWO_ORGS)
    assert result.code == 0, result.text
    plan = json.loads(result.out)
    assert list(plan)[:2] == ["kind", "apiVersion"] and plan["kind"] == "Plan"
    assert {
        "network",
        "fabricVersion",
        "fabricRelease",
        "consensus",
        "domain",
        "orgs",
        "channels",
        "chaincodes",
        "pki",
        "changes",
        "warnings",
    } <= set(plan)
    assert plan["changes"] is None  # no --target
    assert (plan["network"], plan["fabricRelease"], plan["consensus"]) == (
        "supplychain",
        "2.5.16",
        "etcdraft",
    )
    orgs = {o["name"]: o for o in plan["orgs"]}
    assert set(orgs) == {"ordererorg", "org1", "org2"}
    org1 = orgs["org1"]
    assert org1["namespace"] == "supplychain-org1"
    assert org1["mspId"] == "Org1MSP"
    assert org1["admin"] == "Admin@org1.example.com"
    assert org1["users"] == ["alice@org1.example.com"]
    peer0 = org1["peers"][0]
    assert peer0["fqdn"] == "peer0.org1.example.com"
    assert (peer0["role"], peer0["namespace"], peer0["service"], peer0["anchor"]) == (
        "peer",
        "supplychain-org1",
        "peer0",
        True,
    )
    assert orgs["org2"]["users"] == ["bob@org2.example.com"]
    assert [o["fqdn"] for o in orgs["ordererorg"]["orderers"]] == [
        f"orderer{i}.ordererorg.example.com" for i in range(3)
    ]
    (channel,) = plan["channels"]
    assert channel["name"] == "mychannel"
    assert channel["members"] == ["org1", "org2"]
    assert channel["ordererOrgs"] == ["ordererorg"]
    assert len(channel["consenters"]) == 3
    (cc,) = plan["chaincodes"]
    assert (cc["name"], cc["channel"], cc["version"]) == ("basic", "mychannel", "1.0")
    assert "sequence" not in cc  # numbered at run time from the committed definition
    assert cc["endorsement"] == "AND('Org1MSP.peer','Org2MSP.peer')"
    assert plan["pki"]["keyAlgorithm"] == "P-256"


def test_plan_text(cli: Cli) -> None:
    result = cli("plan", TWO_ORGS)
    assert result.code == 0
    assert "supplychain" in result.out
    assert "namespace supplychain-org1" in result.out
    assert "peer0.org1.example.com (anchor)" in result.out
    assert "Admin@org1.example.com" in result.out and "alice@org1.example.com" in result.out
    assert "3 consenters from ordererorg" in result.out


def test_plan_prints_warnings_and_default_policy(cli: Cli) -> None:
    result = cli("plan", ROOT / "examples" / "bft.yaml")
    assert result.code == 0
    assert "MAJORITY Endorsement (channel default)" in result.out
    assert "Fabric 3.1.5, BFT" in result.out


def test_plan_of_a_bad_file_exits_2(cli: Cli, write: Callable[..., Path]) -> None:
    bad = write("apiVersion: baas/v1alpha1\n", "bad.yaml")
    result = cli("plan", bad)
    assert result.code == 2
    assert f"{bad}:" in result.err and "error" in result.err
    assert "Traceback" not in result.text


def test_schema(cli: Cli) -> None:
    result = cli("schema")
    assert result.code == 0
    schema = json.loads(result.out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    import topology

    assert schema == topology.json_schema()


def test_console_script_bad_file(tmp_path: Path) -> None:
    """The installed ``baas`` entry point: exit status 2 and no traceback on a bad file."""
    script = Path(sys.executable).with_name("baas")
    assert script.exists(), f"console script not installed next to {sys.executable}"
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: baas/v1alpha1\nkind: [Network\n")
    env = {k: v for k, v in os.environ.items() if k != "BAAS_DEBUG"}
    proc = subprocess.run(
        [str(script), "validate", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"{bad}:3:1: error: YAML syntax error" in proc.stderr


@pytest.mark.parametrize("args", [("validate",), ("plan",)])
def test_missing_argument_exits_2(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.code == 2
    assert "Traceback" not in result.text


def test_up_with_a_wrong_kubeconfig_writes_nothing(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    missing = str(tmp_path / "missing")
    result = cli("up", str(TWO_ORGS), "--target", "kubernetes", "--kubeconfig", missing)
    assert result.code == 2
    assert "kubeconfig" in result.text and "does not exist" in result.text
    assert "Traceback" not in result.text
    assert not (tmp_path / "home").exists()


def test_local_up_without_fabric_writes_nothing(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A FABRIC_BIN that holds no Fabric release is refused (exit 2) naming the folder and
    the fix, before any key is issued."""
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    empty = tmp_path / "no-fabric"
    empty.mkdir()
    monkeypatch.setenv("FABRIC_BIN", str(empty))
    result = cli("up", str(TWO_ORGS))
    assert result.code == 2, result.text
    assert str(empty) in result.text
    assert "Traceback" not in result.text
    assert not (tmp_path / "home").exists()
