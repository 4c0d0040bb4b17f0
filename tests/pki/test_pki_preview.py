"""preview_generate: generate's dry run (what ``baas plan`` reports), never writing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pki
from pki.spec import NodeSpec, OrgSpec


def test_preview_reads_only_and_names_what_generate_would_issue(tmp_path: Path) -> None:
    root = tmp_path / "crypto"
    peer = NodeSpec(name="peer0.org1.example.com", short_name="peer0", role="peer")
    org = OrgSpec(
        name="org1", msp_id="Org1MSP", domain="org1.example.com", nodes=(peer,), users=("alice",)
    )
    preview = pki.preview_generate(root, [org])
    assert not root.exists()
    assert {(i.name, i.reason) for i in preview.issues} == {
        ("peer0.org1.example.com", "no ca yet"),
        ("Admin@org1.example.com", "no ca yet"),
        ("alice@org1.example.com", "no ca yet"),
    }
    assert preview.bundles == {}
    assert preview.issued == {("org1", i.name) for i in preview.issues}
    pki.generate(root, [org])
    grown = replace(
        org,
        nodes=(replace(peer, sans=("peer0.example.internal",)),),
        users=("alice", "carol"),
    )
    state = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    preview = pki.preview_generate(root, [grown])
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == state
    assert {(i.name, i.reason) for i in preview.issues} == {
        ("peer0.org1.example.com", "tls SANs changed"),
        ("carol@org1.example.com", "sign missing, tls missing"),
    }
    assert set(preview.bundles) == {
        ("org1", "Admin@org1.example.com"),
        ("org1", "alice@org1.example.com"),
    }
    assert "PRIVATE KEY" not in repr(preview) + repr(list(preview.bundles.values()))


def test_preview_counts_an_identity_with_missing_msp_files(tmp_path: Path) -> None:
    root = tmp_path / "crypto"
    peer = NodeSpec(name="peer0.org1.example.com", short_name="peer0", role="peer")
    org = OrgSpec(name="org1", msp_id="Org1MSP", domain="org1.example.com", nodes=(peer,))
    pki.generate(root, [org])
    assert pki.preview_generate(root, [org]).issues == ()
    next(root.rglob("peer0.org1.example.com/tls/ca.crt")).unlink()  # the TLS CA, not assessed
    issues = pki.preview_generate(root, [org]).issues
    assert [(i.name, i.reason) for i in issues] == [("peer0.org1.example.com", "files missing")]
    assert str(issues[0]) == "identity org1/peer0.org1.example.com: issue (files missing)"
