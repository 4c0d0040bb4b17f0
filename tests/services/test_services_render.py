"""``baas.services.render`` called directly (real ``helm template``): the files written, their
counts, whether certificate digests went on the pods, warnings carried, nothing written on a
refused values file."""

from __future__ import annotations

from pathlib import Path

import pytest

import topology
from baas import services
from baas.errors import UsageError
from baas.runtimes.kubernetes.values import IDENTITY_DIGEST_ANNOTATION
from tests.support.kubeapi import helm_binary

__all__ = ["helm_binary"]

pytestmark = pytest.mark.usefixtures("helm_binary")


def test_render_shape(two_orgs: topology.LoadedTopology, tmp_path: Path, home: Path) -> None:
    out = tmp_path / "out"
    outcome = services.render(two_orgs, out=out)
    data = outcome.to_dict()
    assert list(data) == [
        "kind",
        "apiVersion",
        "out",
        "organizations",
        "files",
        "counts",
        "missingHooks",
        "crypto",
        "digests",
        "seconds",
        "warnings",
    ]
    assert (data["kind"], data["out"]) == ("RenderResult", str(out))
    assert data["organizations"] == ["ordererorg", "org1", "org2"]
    paths = [f["path"] for f in data["files"]]
    assert "orgs/org1/manifests.yaml" in paths and "orgs/org1/values.yaml" in paths
    assert all((out / p).is_file() for p in paths)
    assert data["counts"] == {"created": len(paths), "updated": 0, "removed": 0, "unchanged": 0}
    assert data["crypto"] == str(home / "networks" / "supplychain" / "crypto")
    assert data["digests"] is False
    assert IDENTITY_DIGEST_ANNOTATION not in (out / "orgs" / "org1" / "manifests.yaml").read_text()
    assert data["warnings"] == []


def test_render_again_is_unchanged(two_orgs: topology.LoadedTopology, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = services.render(two_orgs, out=out).value
    again = services.render(two_orgs, out=out).value
    assert again.counts == {
        "created": 0,
        "updated": 0,
        "removed": 0,
        "unchanged": len(first.files),
    }


def test_render_with_a_crypto_tree_includes_digests(
    two_orgs: topology.LoadedTopology, tmp_path: Path
) -> None:
    crypto = tmp_path / "crypto"
    services.pki_generate(two_orgs, out=crypto)
    rendered = services.render(two_orgs, out=tmp_path / "out", crypto=crypto).value
    assert (rendered.crypto, rendered.digests) == (crypto, True)
    manifests = (tmp_path / "out" / "orgs" / "org1" / "manifests.yaml").read_text()
    assert IDENTITY_DIGEST_ANNOTATION in manifests


def test_render_options_reach_the_values(two_orgs: topology.LoadedTopology, tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("logging:\n  spec: DEBUG\n")
    out = tmp_path / "out"
    services.render(
        two_orgs,
        out=out,
        values_files=[extra],
        secrets_mode="vault",
        vault_mount="kv",
        image_registry="registry.local",
        workers=1,
    )
    values = (out / "orgs" / "org1" / "values.yaml").read_text()
    assert "mode: vault" in values and "DEBUG" in values
    manifests = (out / "orgs" / "org1" / "manifests.yaml").read_text()
    assert '"kv/data/supplychain/org1/peer0.org1.example.com"' in manifests
    assert "registry.local/hyperledger/fabric-peer" in manifests


def test_render_carries_warnings(minimal: topology.LoadedTopology, tmp_path: Path) -> None:
    outcome = services.render(minimal, out=tmp_path / "out")
    assert outcome.warnings == minimal.warnings
    assert outcome.to_dict()["warnings"][0]["path"] == "spec.channels[0]"


def test_render_refuses_key_material_and_writes_nothing(
    two_orgs: topology.LoadedTopology, tmp_path: Path
) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("peer:\n  extraEnv:\n    K: '-----BEGIN EC PRIVATE KEY-----'\n")
    out = tmp_path / "out"
    with pytest.raises(UsageError, match=r"peer\.extraEnv\.K"):
        services.render(two_orgs, out=out, values_files=[extra])
    assert not out.exists()
