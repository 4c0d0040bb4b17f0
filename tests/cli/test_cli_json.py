"""Every command with ``-o json``: stdout is exactly one JSON document (``kind``, ``apiVersion``,
then the result, camelCase keys), on success and on failure, with the exit status of the text
form. Commands that need a running network or cluster are run where that fails (no network up,
no Fabric): a failure is an ``Error`` document with the message, hint and diagnostics."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TWO_ORGS = str(ROOT / "examples" / "two-orgs.yaml")
ALICE = "alice@org1.example.com"
SNAKE_KEY = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")

Cli = Callable[..., Any]


@dataclass(frozen=True)
class Case:
    """``argv`` (``{crypto}``, ``{bad}``, ``{tmp}`` and ``{empty}`` are filled in) must exit
    ``code`` with one document of ``kind`` on stdout; ``setup`` runs first (``"pki"``: a
    crypto folder at ``{crypto}``)."""

    id: str
    argv: tuple[str, ...]
    kind: str
    code: int = 0
    setup: str = ""


CASES = [
    Case("validate", ("validate", TWO_ORGS), "ValidationReport"),
    Case("validate-invalid", ("validate", "{bad}"), "ValidationReport", 2),
    Case("validate-no-file", ("validate",), "Error", 2),
    Case("plan", ("plan", TWO_ORGS), "Plan"),
    Case("plan-local-target", ("plan", TWO_ORGS, "-t", "local"), "Plan"),
    Case("plan-invalid", ("plan", "{bad}"), "Error", 2),
    Case("schema", ("schema",), "Schema"),
    Case("schema-bad-flag", ("schema", "--bogus"), "Error", 2),
    Case(
        "pki-generate", ("pki", "generate", TWO_ORGS, "--crypto", "{crypto}"), "PKIGenerateResult"
    ),
    Case("pki-generate-invalid", ("pki", "generate", "{bad}"), "Error", 2),
    Case("pki-status", ("pki", "status", TWO_ORGS, "--crypto", "{crypto}"), "PKIStatus", 0, "pki"),
    Case("pki-status-no-tree", ("pki", "status", TWO_ORGS, "--crypto", "{crypto}"), "Error", 2),
    Case(
        "pki-renew",
        ("pki", "renew", TWO_ORGS, "--crypto", "{crypto}", "--identity", ALICE),
        "PKIRenewResult",
        0,
        "pki",
    ),
    Case("pki-renew-no-selector", ("pki", "renew", TWO_ORGS), "Error", 2),
    Case(
        "pki-revoke",
        ("pki", "revoke", TWO_ORGS, ALICE, "--crypto", "{crypto}"),
        "PKIRevokeResult",
        0,
        "pki",
    ),
    Case(
        "pki-revoke-unknown",
        ("pki", "revoke", TWO_ORGS, "nobody", "--crypto", "{crypto}"),
        "Error",
        2,
        "pki",
    ),
    Case(
        "pki-rotate-ca",
        ("pki", "rotate-ca", TWO_ORGS, "org1", "--tls", "--crypto", "{crypto}"),
        "PKIRotateResult",
        0,
        "pki",
    ),
    Case(
        "pki-rotate-ca-signing",
        ("pki", "rotate-ca", TWO_ORGS, "org1", "--crypto", "{crypto}"),
        "Error",
        2,
        "pki",
    ),
    Case(
        "pki-rotate-ca-orderer-org",
        ("pki", "rotate-ca", TWO_ORGS, "ordererorg", "--tls", "--crypto", "{crypto}"),
        "Error",
        2,
        "pki",
    ),
    Case("render", ("render", TWO_ORGS, "--out", "{tmp}/render"), "RenderResult"),
    Case("render-into-a-file", ("render", TWO_ORGS, "--out", "{bad}"), "Error", 2),
    Case("up-without-fabric", ("up", TWO_ORGS, "--fabric-bin", "{empty}"), "Error", 2),
    Case("up-invalid", ("up", "{bad}"), "Error", 2),
    Case("down-not-up", ("down", TWO_ORGS), "DownResult"),
    Case("down-bad-target", ("down", TWO_ORGS, "-t", "mars"), "Error", 2),
    Case("status-not-up", ("status", TWO_ORGS), "Status"),
    Case("status-invalid", ("status", "{bad}"), "Error", 2),
    Case("logs", ("logs", TWO_ORGS), "Logs"),
    Case("logs-unknown-node", ("logs", TWO_ORGS, "peer9.org1.example.com"), "Error", 2),
    Case("logs-follow", ("logs", TWO_ORGS, "-f"), "Error", 2),
    Case("smoke-not-up", ("smoke", TWO_ORGS), "SmokeReport", 1),
    Case("smoke-invalid", ("smoke", "{bad}"), "Error", 2),
    Case("invoke-not-up", ("invoke", TWO_ORGS, "basic", "GetAllAssets"), "Error", 2),
    Case("invoke-unknown-chaincode", ("invoke", TWO_ORGS, "nope", "F"), "Error", 2),
    Case("query-not-up", ("query", TWO_ORGS, "basic", "GetAllAssets"), "Error", 2),
    Case("fabric-list", ("fabric", "list"), "FabricReleaseList"),
    Case("fabric-list-extra-argument", ("fabric", "list", "2.5"), "Error", 2),
    Case("fabric-install-unknown", ("fabric", "install", "--version", "9.9"), "Error", 2),
    Case("unknown-command", ("frobnicate",), "Error", 2),
]

COMMANDS = {
    "validate",
    "plan",
    "schema",
    "pki generate",
    "pki status",
    "pki renew",
    "pki revoke",
    "pki rotate-ca",
    "render",
    "up",
    "down",
    "status",
    "logs",
    "smoke",
    "invoke",
    "query",
    "fabric list",
    "fabric install",
}


def _command(argv: tuple[str, ...]) -> str:
    return " ".join(argv[:2]) if argv[0] in ("pki", "fabric") else argv[0]


def test_the_table_covers_every_command() -> None:
    covered = {_command(c.argv) for c in CASES}
    assert covered >= COMMANDS
    failures_only = {"up", "invoke", "query", "fabric install"}  # need a network or a download
    for command in COMMANDS - failures_only:  # on success (or "not up") and on failure
        kinds = {c.kind for c in CASES if _command(c.argv) == command}
        assert "Error" in kinds and len(kinds) > 1, command


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A private BAAS_HOME, no FABRIC_BIN, and the paths the cases refer to."""
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FABRIC_BIN", raising=False)
    monkeypatch.delenv("BAAS_DEBUG", raising=False)
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: baas/v1alpha1\nkind: Network\n")
    empty = tmp_path / "no-fabric"
    empty.mkdir()
    return {
        "crypto": str(tmp_path / "crypto"),
        "bad": str(bad),
        "tmp": str(tmp_path),
        "empty": str(empty),
    }


def _snake_keys(data: Any, where: str = "") -> list[str]:
    """Keys that are snake_case anywhere in ``data`` (data keys such as FQDNs never are)."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if SNAKE_KEY.match(str(key)):
                found.append(f"{where}.{key}")
            if key != "schema":  # the JSON Schema document is the topology's own
                found += _snake_keys(value, f"{where}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _snake_keys(value, f"{where}[{i}]")
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_json_document(case: Case, cli: Cli, env: dict[str, str]) -> None:
    if case.setup == "pki":
        assert cli("pki", "generate", TWO_ORGS, "--crypto", env["crypto"]).code == 0
    argv = [a.format(**env) for a in case.argv]
    result = cli(*argv, "-o", "json")
    assert result.code == case.code, result.text
    assert "Traceback" not in result.text
    data = json.loads(result.out)  # exactly one document, nothing else on stdout
    assert list(data)[:2] == ["kind", "apiVersion"], data
    assert (data["kind"], data["apiVersion"]) == (case.kind, "baas/v1alpha1"), data
    assert _snake_keys(data) == []
    if case.kind == "Error":
        assert list(data) == ["kind", "apiVersion", "message", "hint", "diagnostics"]
        assert data["message"]
    else:
        assert list(data)[-1] == "warnings"


@pytest.mark.parametrize("spelling", [["--output", "json"], ["--output=json"], ["-ojson"]])
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_every_spelling_of_json(
    spelling: list[str], command: str, cli: Cli, env: dict[str, str]
) -> None:
    for file, kind in ((TWO_ORGS, {"validate": "ValidationReport", "plan": "Plan"}[command]),):
        assert json.loads(cli(command, file, *spelling).out)["kind"] == kind
    failed = cli(command, env["bad"], *spelling)
    assert failed.code == 2 and json.loads(failed.out)["kind"] in ("ValidationReport", "Error")


def test_topology_error_document_carries_the_diagnostics(cli: Cli, env: dict[str, str]) -> None:
    result = cli("plan", env["bad"], "-o", "json")
    assert result.code == 2
    data = json.loads(result.out)
    assert data["message"] == "2 errors; nothing was changed."
    assert [d["path"] for d in data["diagnostics"]] == ["metadata", "spec"]
    assert {d["file"] for d in data["diagnostics"]} == {env["bad"]}
    assert result.err == ""  # nothing for people in JSON mode but progress


def test_the_text_form_of_the_same_error(cli: Cli, env: dict[str, str]) -> None:
    result = cli("plan", env["bad"])
    assert result.code == 2 and result.out == ""
    assert result.err.splitlines()[-1] == "2 errors; nothing was changed."


def test_an_error_after_the_format_is_json_too(cli: Cli, env: dict[str, str]) -> None:
    """Bad flags are refused before the command runs, wherever -o json stands."""
    for argv in (("-o", "json", "--bogus"), ("--bogus", "-o", "json")):
        result = cli("status", TWO_ORGS, *argv)
        assert result.code == 2
        assert json.loads(result.out)["message"] == "No such option: --bogus"


def test_arguments_after_a_double_dash_are_not_the_format(cli: Cli, env: dict[str, str]) -> None:
    result = cli("invoke", TWO_ORGS, "nope", "F", "--", "-o", "json")
    assert result.code == 2 and result.out == ""
    assert "no chaincode 'nope'" in result.err


def test_status_of_a_network_not_up(cli: Cli, env: dict[str, str]) -> None:
    data = json.loads(cli("status", TWO_ORGS, "-o", "json").out)
    assert (data["network"], data["target"], data["running"]) == ("supplychain", "local", False)
    assert {n["healthy"] for n in data["nodes"]} <= {None, False}
    assert data["chaincodeServers"] and data["channels"] == []


def test_local_status_ports_are_camel_case() -> None:
    from baas.cli.runtime_cmds import camel_ports

    data = {"nodes": [{"name": "peer0", "ports": {"peer": 1, "peer_chaincode": 2}}, {"x": 1}]}
    assert camel_ports(data)["nodes"] == [
        {"name": "peer0", "ports": {"peer": 1, "peerChaincode": 2}},
        {"x": 1},
    ]
    assert data["nodes"][0]["ports"] == {"peer": 1, "peer_chaincode": 2}  # not modified


def test_smoke_deprecated_json_flag(cli: Cli, env: dict[str, str]) -> None:
    result = cli("smoke", TWO_ORGS, "--json")
    assert result.code == 1
    assert json.loads(result.out)["kind"] == "SmokeReport"
    assert "warning: --json is deprecated and will be removed in the next release; use -o json" in (
        result.err
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-o", "json"], True),
        (["-ojson"], True),
        (["--output", "json"], True),
        (["--output=json"], True),
        (["--json"], True),
        (["-o", "json", "-o", "text"], False),
        (["-o", "text"], False),
        (["-o"], False),
        (["--", "-o", "json"], False),
        (["--outputs", "json"], False),
        ([], False),
    ],
)
def test_requested_json(argv: list[str], expected: bool) -> None:
    from baas.cli.output import requested_json

    assert requested_json(["status", "f.yaml", *argv]) is expected
