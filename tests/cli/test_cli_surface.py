"""The command line around the commands: deprecated option spellings (hidden, working, with a
warning), what the messages say happened and comes next, warnings shown once and sorted,
colour (``NO_COLOR``, non-terminals) and shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TWO_ORGS = ROOT / "examples" / "two-orgs.yaml"
MINIMAL = ROOT / "examples" / "minimal.yaml"
ALICE = "alice@org1.example.com"
DEPRECATED = "is deprecated and will be removed in the next release; use"

Cli = Callable[..., Any]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FABRIC_BIN", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


# ------------------------------------------------------------------------------ aliases


@pytest.mark.parametrize("command", ["generate", "status", "renew", "revoke"])
def test_pki_out_is_a_deprecated_crypto(cli: Cli, tmp_path: Path, command: str) -> None:
    crypto = tmp_path / "crypto"
    if command != "generate":
        assert cli("pki", "generate", TWO_ORGS, "--crypto", crypto).code == 0
    extra = {"renew": ["--identity", ALICE], "revoke": [ALICE]}.get(command, [])
    result = cli("pki", command, TWO_ORGS, *extra, "--out", crypto)
    assert result.code == 0, result.text
    assert f"warning: --out {DEPRECATED} --crypto" in result.err
    assert result.err.count(DEPRECATED) == 1
    if command == "status":  # it worked on the folder --out named
        assert "all 30 certificates ok" in result.err
    else:
        assert f" in {crypto}: " in result.err


def test_old_and_new_spelling_must_agree(cli: Cli, tmp_path: Path) -> None:
    result = cli("pki", "generate", TWO_ORGS, "--out", tmp_path / "a", "--crypto", tmp_path / "b")
    assert result.code == 2
    assert "--out and --crypto both given, with different values" in result.err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_the_new_spellings_print_no_warning(cli: Cli, tmp_path: Path) -> None:
    result = cli("pki", "generate", TWO_ORGS, "--crypto", tmp_path / "crypto")
    assert result.code == 0 and "deprecated" not in result.err


def test_deprecation_warnings_keep_stdout_json(cli: Cli, tmp_path: Path) -> None:
    result = cli("pki", "generate", TWO_ORGS, "--out", tmp_path / "crypto", "-o", "json")
    assert json.loads(result.out)["kind"] == "PKIGenerateResult"
    assert f"--out {DEPRECATED} --crypto" in result.err


def test_the_vocabulary_is_documented() -> None:
    from baas.cli.options import DEPRECATED as table

    assert table == {
        "pki --out": "--crypto",
        "render --secrets-mode": "--secrets",
        "render -f": "--values",
        "smoke --json": "-o json",
    }


# ------------------------------------------------------------------------------ messages


def test_pki_generate_counts_add_up(cli: Cli, tmp_path: Path) -> None:
    crypto = tmp_path / "crypto"
    first = cli("pki", "generate", TWO_ORGS, "--crypto", crypto)
    second = cli("pki", "generate", TWO_ORGS, "--crypto", crypto)
    summary = f"crypto material in {crypto}: 30 certificates:"
    assert f"{summary} 30 created, 0 kept; 3 MSP folder updates" in first.err
    assert second.err.strip() == f"{summary} 0 created, 30 kept"
    assert " missing" not in first.err


def test_missing_file_hint_inside_and_outside_the_repository(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    inside = cli("validate", "absent.yaml")
    assert "fix: check the path; examples live in examples/" in inside.err
    monkeypatch.chdir(tmp_path)
    outside = cli("validate", "absent.yaml")
    assert outside.code == 2
    assert "examples" not in outside.err
    assert f"fix: check the path (a relative path starts from the current folder, {tmp_path})" in (
        outside.err
    )
    (tmp_path / "empty.yaml").write_text("")
    empty = cli("validate", "empty.yaml")
    assert "the file is empty" in empty.err and "examples" not in empty.err


def test_up_validates_the_file_before_anything_else(
    cli: Cli, tmp_path: Path, write: Callable[..., Path]
) -> None:
    """An invalid file with no Fabric and a wrong kubeconfig: the topology's errors, nothing
    about Fabric or the cluster, and nothing written."""
    bad = write("apiVersion: baas/v1alpha1\nkind: Network\n", "bad.yaml")
    empty = tmp_path / "no-fabric"
    empty.mkdir()
    for target in (["--fabric-bin", str(empty)], ["-t", "kubernetes", "--kubeconfig", "nope"]):
        result = cli("up", bad, *target)
        assert result.code == 2
        assert f"{bad}:1:1: error: metadata: required field 'metadata' is missing" in result.err
        assert "Fabric" not in result.err and "kubeconfig" not in result.err
        assert "baas up" not in result.err
    assert not (tmp_path / "home").exists()


def test_up_says_the_file_is_valid_first(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "no-fabric"
    empty.mkdir()
    result = cli("up", TWO_ORGS, "--fabric-bin", empty)
    assert result.code == 2
    lines = result.err.splitlines()
    assert (
        lines[0]
        == f"ok {TWO_ORGS}: network 'supplychain', 3 organisations, 7 nodes, 1 channel, 1 chaincode"
    )
    assert lines[1] == f"baas up {TWO_ORGS} → local"


def test_next_commands_after_up() -> None:
    import topology
    from baas.cli.options import TargetOpt
    from baas.cli.runtime_cmds import _cluster_flags, _next_after_up

    loaded = topology.load(TWO_ORGS)
    local = _next_after_up(TWO_ORGS, loaded, TargetOpt.local, [])
    assert [cmd for cmd, _ in local] == [
        f"baas status {TWO_ORGS}",
        f"baas smoke {TWO_ORGS}",
        f"baas logs {TWO_ORGS} peer0.org1.example.com -f",
    ]
    flags = _cluster_flags("kind baas", Path("/k/config"))
    kube = _next_after_up(TWO_ORGS, loaded, TargetOpt.kubernetes, flags)
    assert [cmd for cmd, _ in kube] == [
        f"baas status {TWO_ORGS} -t kubernetes --context 'kind baas' --kubeconfig /k/config",
        f"baas smoke {TWO_ORGS} -t kubernetes --context 'kind baas' --kubeconfig /k/config",
        "kubectl --context 'kind baas' --kubeconfig /k/config -n supplychain-org1 logs "
        "statefulset/peer0",
    ]


def test_print_next(capsys: pytest.CaptureFixture[str]) -> None:
    from baas.cli import common, output

    output.configure()
    common.print_next([("baas status f.yaml", "what runs"), ("baas smoke f.yaml -t x", "checks")])
    assert capsys.readouterr().err.splitlines() == [
        "next:",
        "  baas status f.yaml      # what runs",
        "  baas smoke f.yaml -t x  # checks",
    ]


def test_render_announces_the_helm_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from baas.cli import common, output
    from baas.runtimes.kubernetes import helm

    output.configure()
    monkeypatch.delenv("BAAS_HELM", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert common.helm_to_install() == helm.HELM_VERSION
    common.announce_helm()
    err = capsys.readouterr().err
    assert f"helm {helm.HELM_VERSION} is not installed: installing it into " in err
    assert str(tmp_path / "cache") in err
    monkeypatch.setenv("BAAS_HELM", "/usr/bin/true")
    assert common.helm_to_install() is None


# ------------------------------------------------------------------------------ warnings


def test_warnings_once_sorted_in_every_command(cli: Cli, tmp_path: Path) -> None:
    """minimal.yaml has one warning; every command that loads it shows it once, as validate
    does, and JSON mode carries it in the document instead of stderr."""
    crypto = tmp_path / "crypto"
    line = "minimal.yaml:19:7: warning: spec.channels[0]: channel 'mychannel' has 1 etcdraft"
    for argv in (
        ("validate", MINIMAL),
        ("plan", MINIMAL),
        ("pki", "generate", MINIMAL, "--crypto", crypto),
        ("pki", "status", MINIMAL, "--crypto", crypto),
        ("status", MINIMAL),
        ("render", MINIMAL, "--out", tmp_path / "render"),
    ):
        result = cli(*argv)
        assert result.code == 0, result.text
        assert result.err.count(line) == 1, (argv, result.err)
        as_json = cli(*argv, "-o", "json")
        assert "warning:" not in as_json.err
        assert [w["path"] for w in json.loads(as_json.out)["warnings"]] == ["spec.channels[0]"]


def test_diagnostics_sorted_by_line(
    cli: Cli, doc: dict[str, Any], write: Callable[..., Path]
) -> None:
    doc["spec"]["chaincodes"][0]["channel"] = "nochannel"
    doc["metadata"]["name"] = "Bad_Name"
    doc["spec"]["organizations"][2]["mspId"] = "1bad"
    path = write(doc)
    result = cli("validate", path)
    prefix = f"{path}:"
    lines = [int(x.split(":")[1]) for x in result.err.splitlines() if x.startswith(prefix)]
    assert len(lines) >= 2 and lines == sorted(lines)
    data = json.loads(cli("validate", path, "-o", "json").out)
    found = [d["line"] for d in data["files"][0]["diagnostics"]]
    assert found == sorted(found)


def test_one_typo_gives_one_error(
    cli: Cli, doc: dict[str, Any], write: Callable[..., Path]
) -> None:
    doc["spec"]["organizations"][1]["mspid"] = doc["spec"]["organizations"][1].pop("mspId")
    result = cli("validate", write(doc))
    assert result.code == 2
    errors = [x for x in result.err.splitlines() if ": error: " in x]
    assert len(errors) == 1
    assert "unknown field 'mspid' (did you mean 'mspId'?)" in errors[0]
    assert "fix: rename it to 'mspId', a required field" in result.err


# ------------------------------------------------------------------------------ colour, completion


def test_no_color_and_non_terminals(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = cli("validate", TWO_ORGS)
    assert "\x1b[" not in plain.err  # not a terminal: no colour
    monkeypatch.setenv("FORCE_COLOR", "1")
    forced = cli("validate", TWO_ORGS)
    assert "\x1b[" in forced.err  # the styled "ok"
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in cli("validate", TWO_ORGS).err
    assert "\x1b[" not in cli("plan", TWO_ORGS).out


def test_shell_completion(tmp_path: Path) -> None:
    """The installed script completes sub-commands (bash protocol of click/typer)."""
    script = Path(sys.executable).with_name("baas")
    env = {
        **os.environ,
        "_BAAS_COMPLETE": "complete_bash",
        "COMP_WORDS": "baas pk",
        "COMP_CWORD": "1",
    }
    done = subprocess.run(
        [str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["pki"]
    shown = subprocess.run(
        [str(script), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 0 and "_baas_completion" in shown.stdout


def test_kubernetes_status_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    from baas.cli import output
    from baas.cli.runtime_cmds import _print_kube_status

    output.configure()
    _print_kube_status(
        "net",
        {
            "target": "kubernetes",
            "namespaces": {"net-org1": True, "net-org2": False},
            "workloads": [
                {
                    "kind": "StatefulSet",
                    "namespace": "net-org1",
                    "name": "peer0",
                    "ready": 0,
                    "wanted": 1,
                }
            ],
        },
    )
    assert capsys.readouterr().out.splitlines() == [
        "network net (kubernetes): 1/2 namespaces",
        "  namespace net-org1                         present",
        "  namespace net-org2                         missing",
        "  StatefulSet net-org1/peer0: 0/1 ready",
    ]
