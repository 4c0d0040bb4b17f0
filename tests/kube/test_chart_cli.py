"""`baas render FILE --out DIR`: per-organisation values and manifests written as files, as an
ensure (unchanged files are not rewritten, stale ones removed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import topology
from baas import plan as planning
from baas.cli import app as cli
from baas.runtimes.kubernetes import values as chart_values

ROOT = Path(__file__).resolve().parents[2]
TWO_ORGS = ROOT / "examples" / "two-orgs.yaml"

pytestmark = pytest.mark.usefixtures("helm_binary")


@pytest.fixture(autouse=True)
def _render_command() -> None:
    """Register `baas render` when app.py does not (yet) do it."""
    if "render" not in {
        c.name or (c.callback.__name__ if c.callback else "") for c in cli.app.registered_commands
    }:
        from baas.cli import kube_cmds

        kube_cmds.register(cli.app)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty BAAS_HOME: render reads the default crypto tree when it exists."""
    home = tmp_path / "baas-home"
    monkeypatch.setenv("BAAS_HOME", str(home))
    return home


def _render(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    status = cli.main(["render", *args, "-o", "json"])
    out = capsys.readouterr().out
    return status, (json.loads(out) if status == 0 else {})


def _actions(report: dict[str, Any]) -> dict[str, str]:
    return {f["path"]: f["action"] for f in report["files"]}


def test_render_two_orgs_writes_values_and_manifests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    status, report = _render(str(TWO_ORGS), "--out", str(out), capsys=capsys)
    assert status == 0
    assert (report["kind"], report["apiVersion"]) == ("RenderResult", "baas/v1alpha1")
    assert report["organizations"] == ["ordererorg", "org1", "org2"]
    assert report["digests"] is False and report["missingHooks"] == []
    plan = planning.build(topology.load(TWO_ORGS).network)
    for org in plan.orgs:
        values = yaml.safe_load((out / "orgs" / org.name / "values.yaml").read_text())
        assert values == chart_values.org_values(plan, org)
        docs = [
            d
            for d in yaml.safe_load_all((out / "orgs" / org.name / "manifests.yaml").read_text())
            if d
        ]
        kinds = {d["kind"] for d in docs}
        assert {
            "StatefulSet",
            "Service",
            "ConfigMap",
            "ServiceAccount",
            "PodDisruptionBudget",
        } <= kinds
        assert (out / "orgs" / org.name / "tests.yaml").exists() == bool(org.peers)
        for path in (out / "orgs" / org.name).iterdir():
            assert "PRIVATE KEY" not in path.read_text()
    namespaces = [
        d["metadata"]["name"]
        for d in yaml.safe_load_all((out / "cluster" / "namespaces.yaml").read_text())
        if d
    ]
    assert {o.namespace for o in plan.orgs} <= set(namespaces)
    assert set(_actions(report).values()) == {"created"}
    assert json.loads((out / ".baas-render.json").read_text())["files"] == sorted(_actions(report))


def test_render_again_changes_nothing_and_cleans_stale_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _render(str(TWO_ORGS), "--out", str(out), capsys=capsys)[0] == 0
    mine = out / "orgs" / "notes.txt"
    mine.write_text("kept")
    before = (out / "orgs" / "org1" / "manifests.yaml").stat().st_mtime_ns
    status, report = _render(str(TWO_ORGS), "--out", str(out), capsys=capsys)
    assert status == 0
    assert set(_actions(report).values()) == {"unchanged"}
    assert (out / "orgs" / "org1" / "manifests.yaml").stat().st_mtime_ns == before

    status, report = _render(
        str(ROOT / "examples" / "minimal.yaml"), "--out", str(out), capsys=capsys
    )
    assert status == 0
    actions = _actions(report)
    assert actions["orgs/org2/manifests.yaml"] == "removed"
    assert actions["orgs/ordererorg/values.yaml"] == "removed"
    assert actions["orgs/org1/values.yaml"] == "updated"
    assert not (out / "orgs" / "org2").exists()
    assert mine.read_text() == "kept"


def test_render_vault_mode_with_extra_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("global:\n  imageRegistry: registry.local\nlogging:\n  spec: DEBUG\n")
    out = tmp_path / "out"
    status, _ = _render(
        str(TWO_ORGS),
        "--out",
        str(out),
        "--secrets",
        "vault",
        "--values",
        str(extra),
        "--vault-mount",
        "kv",
        capsys=capsys,
    )
    assert status == 0
    values = yaml.safe_load((out / "orgs" / "org1" / "values.yaml").read_text())
    assert values["secrets"]["mode"] == "vault"
    assert values["global"]["imageRegistry"] == "registry.local"
    assert values["logging"]["spec"] == "DEBUG"
    manifests = (out / "orgs" / "org1" / "manifests.yaml").read_text()
    assert '"kv/data/supplychain/org1/peer0.org1.example.com"' in manifests
    assert 'image: "registry.local/hyperledger/fabric-peer:2.5.16"' in manifests
    # logging.spec from --values reaches every node's env, over the spec baas computed.
    configs = [
        d["data"]
        for d in yaml.safe_load_all(manifests)
        if d and d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-env")
    ]
    assert len(configs) == 2
    assert {c["FABRIC_LOGGING_SPEC"] for c in configs} == {"DEBUG"}
    assert {p["env"]["FABRIC_LOGGING_SPEC"] for p in values["peers"]} == {"INFO"}


def test_render_puts_certificate_digests_on_pods_once_the_tree_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from baas.home import crypto_dir
    from baas.runtimes.kubernetes.values import IDENTITY_DIGEST_ANNOTATION as ANNOTATION
    from pki import identity_digests

    out = tmp_path / "out"
    assert _render(str(TWO_ORGS), "--out", str(out), capsys=capsys)[0] == 0
    assert ANNOTATION not in (out / "orgs" / "org1" / "manifests.yaml").read_text()
    assert cli.main(["pki", "generate", str(TWO_ORGS)]) == 0  # the default tree
    status, report = _render(str(TWO_ORGS), "--out", str(out), capsys=capsys)
    assert status == 0
    assert _actions(report)["orgs/org1/manifests.yaml"] == "updated"
    plan = planning.build(topology.load(TWO_ORGS).network)
    digests = identity_digests(crypto_dir(plan.network), planning.pki_org_specs_from_plan(plan))
    values = yaml.safe_load((out / "orgs" / "org1" / "values.yaml").read_text())
    assert values == chart_values.org_values(plan, plan.org("org1"), identity_digests=digests)
    manifests = (out / "orgs" / "org1" / "manifests.yaml").read_text()
    assert f'{ANNOTATION}: "{digests["peer0.org1.example.com"]}"' in manifests
    other = tmp_path / "other"
    assert cli.main(["pki", "generate", str(TWO_ORGS), "--crypto", str(other)]) == 0
    status, _ = _render(str(TWO_ORGS), "--out", str(out), "--crypto", str(other), capsys=capsys)
    assert status == 0
    peer0 = identity_digests(other, planning.pki_org_specs_from_plan(plan))[
        "peer0.org1.example.com"
    ]
    assert peer0 != digests["peer0.org1.example.com"]
    assert peer0 in (out / "orgs" / "org1" / "manifests.yaml").read_text()


def test_render_refuses_key_material_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("peer:\n  extraEnv:\n    K: '-----BEGIN EC PRIVATE KEY-----'\n")
    out = tmp_path / "out"
    assert cli.main(["render", str(TWO_ORGS), "--out", str(out), "--values", str(extra)]) == 2
    assert "peer.extraEnv.K" in capsys.readouterr().err
    assert not out.exists()


def test_render_into_a_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "file"
    target.write_text("")
    assert cli.main(["render", str(TWO_ORGS), "--out", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_render_text_says_what_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a crypto folder the digests are left out, and the note says how to get them."""
    out = tmp_path / "out"
    assert cli.main(["render", str(TWO_ORGS), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "identity digests were left out" in err
    assert f"baas pki generate {TWO_ORGS}" in err and "--crypto DIR" in err
    assert f"ok rendered 3 organisations into {out}" in err


def test_render_deprecated_spellings_still_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("logging:\n  spec: DEBUG\n")
    out = tmp_path / "out"
    argv = ["render", str(TWO_ORGS), "--out", str(out), "--secrets-mode", "vault", "-f", str(extra)]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert (
        "--secrets-mode is deprecated and will be removed in the next release; use --secrets"
        in (err)
    )
    assert "-f is deprecated and will be removed in the next release; use --values" in err
    values = yaml.safe_load((out / "orgs" / "org1" / "values.yaml").read_text())
    assert values["secrets"]["mode"] == "vault" and values["logging"]["spec"] == "DEBUG"
