"""``baas.services.pki`` called directly: result shapes, warnings carried, idempotence, errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import topology
from baas import services
from baas.errors import UsageError
from baas.services.pki import PKIChanges, PKIStatus

ALICE = "alice@org1.example.com"
TWO_ORGS = Path(__file__).resolve().parents[2] / "examples" / "two-orgs.yaml"
CHANGE_KEYS = {"org", "holder", "item", "action", "detail"}
CERT_KEYS = {"org", "holder", "kind", "path", "state", "subject", "serial", "notAfter", "daysLeft"}


def _generate(loaded: topology.LoadedTopology, out: Path) -> PKIChanges:
    return services.pki_generate(loaded, out=out).value


def test_generate_shape_and_report(two_orgs: topology.LoadedTopology, tmp_path: Path) -> None:
    lines: list[str] = []
    steps: list[object] = []
    outcome = services.pki_generate(
        two_orgs, out=tmp_path / "crypto", report=lines.append, progress=steps.append
    )
    data = outcome.to_dict()
    assert list(data) == [
        "kind",
        "apiVersion",
        "root",
        "summary",
        "certificates",
        "mspUpdates",
        "changes",
        "warnings",
    ]
    assert (data["kind"], data["apiVersion"]) == ("PKIGenerateResult", "baas/v1alpha1")
    assert data["root"] == str(tmp_path / "crypto")
    assert set(data["summary"]) == {"created"} and data["summary"]["created"] > 0
    assert all(set(c) == CHANGE_KEYS for c in data["changes"])
    assert data["warnings"] == []
    assert outcome.value.changed
    assert data["certificates"] == {
        "total": 30,
        "created": 30,
        "reissued": 0,
        "renewed": 0,
        "revoked": 0,
        "kept": 0,
    }
    assert data["mspUpdates"] == 3  # one per organisation's MSP folder, not a certificate
    assert lines == [
        f"pki {tmp_path / 'crypto'}: 30 certificates: 30 created, 0 kept; 3 MSP folder updates"
    ]
    assert steps  # progress saw each issuing step


def test_generate_twice_creates_nothing(two_orgs: topology.LoadedTopology, tmp_path: Path) -> None:
    out = tmp_path / "crypto"
    _generate(two_orgs, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    again = _generate(two_orgs, out)
    assert not again.changed
    assert again.summary == {"kept": 30}
    assert {c.action for c in again.changes} == {"kept"}
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_certificate_counts_add_up_across_runs(
    two_orgs: topology.LoadedTopology, tmp_path: Path
) -> None:
    """created + kept is every certificate of the network on each run: 30 created, then 30
    kept, then, with a peer added, 2 created and 30 kept. MSP folders are counted apart."""
    out = tmp_path / "crypto"
    first = _generate(two_orgs, out)
    again = _generate(two_orgs, out)
    text = TWO_ORGS.read_text().replace(
        "        - name: peer1\n", "        - name: peer1\n        - name: peer2\n", 1
    )
    network, _ = topology.loads(text)
    grown = topology.LoadedTopology(path=TWO_ORGS, network=network)
    third = _generate(grown, out)
    counts = [(r.certificates["created"], r.certificates["kept"]) for r in (first, again, third)]
    assert counts == [(30, 0), (0, 30), (2, 30)]
    assert [sum(r.certificates.values()) for r in (first, again, third)] == [30, 30, 32]
    assert (first.msp_updates, again.msp_updates) == (3, 0)
    assert again.counts_line(always=("created", "kept")) == "30 certificates: 0 created, 30 kept"


def test_generate_defaults_to_baas_home(two_orgs: topology.LoadedTopology, home: Path) -> None:
    result = services.pki_generate(two_orgs).value
    assert result.root == home / "networks" / "supplychain" / "crypto"
    assert (result.root / "peerOrganizations" / "org1.example.com" / "msp").is_dir()


def test_warnings_are_carried(minimal: topology.LoadedTopology, tmp_path: Path) -> None:
    out = tmp_path / "crypto"
    generated = services.pki_generate(minimal, out=out)
    status = services.pki_status(minimal, out=out)
    renewed = services.pki_renew(minimal, out=out, expiring_within=0)
    for outcome in (generated, status, renewed):
        assert outcome.warnings == minimal.warnings
        (warning,) = outcome.to_dict()["warnings"]
        assert (warning["severity"], warning["path"]) == ("warning", "spec.channels[0]")


def test_status_shape(two_orgs: topology.LoadedTopology, tmp_path: Path) -> None:
    out = tmp_path / "crypto"
    _generate(two_orgs, out)
    outcome = services.pki_status(two_orgs, out=out)
    assert isinstance(outcome.value, PKIStatus)
    data = outcome.to_dict()
    assert data["kind"] == "PKIStatus"
    assert (data["root"], data["warnDays"], data["total"], data["needAttention"]) == (
        str(out),
        30,
        30,
        0,
    )
    assert all(set(row) == CERT_KEYS for row in data["certificates"])
    assert {row["state"] for row in data["certificates"]} == {"ok"}
    assert all(isinstance(row["daysLeft"], int) for row in data["certificates"])


def test_status_warn_days_flags_every_certificate(
    two_orgs: topology.LoadedTopology, tmp_path: Path
) -> None:
    out = tmp_path / "crypto"
    _generate(two_orgs, out)
    status = services.pki_status(two_orgs, out=out, warn_days=100_000).value
    assert status.warn_days == 100_000
    assert len(status.attention) == len(status.certificates) == 30
    assert {c.state for c in status.certificates} == {"expiring"}


def test_status_renew_revoke_need_a_tree(two_orgs: topology.LoadedTopology, tmp_path: Path) -> None:
    out = tmp_path / "absent"
    for call in (
        lambda: services.pki_status(two_orgs, out=out),
        lambda: services.pki_renew(two_orgs, out=out, identity=ALICE),
        lambda: services.pki_revoke(two_orgs, ALICE, out=out),
    ):
        with pytest.raises(UsageError, match="no crypto material"):
            call()
    assert not out.exists()


@pytest.mark.parametrize(
    ("identity", "expiring_within"), [(None, None), (ALICE, 30)], ids=["none", "both"]
)
def test_renew_selector_is_checked_first(
    two_orgs: topology.LoadedTopology,
    tmp_path: Path,
    identity: str | None,
    expiring_within: int | None,
) -> None:
    with pytest.raises(UsageError, match="exactly one"):
        services.pki_renew(
            two_orgs, out=tmp_path / "absent", identity=identity, expiring_within=expiring_within
        )


def test_renew_identity_keeps_keys(two_orgs: topology.LoadedTopology, tmp_path: Path) -> None:
    out = tmp_path / "crypto"
    _generate(two_orgs, out)
    outcome = services.pki_renew(two_orgs, out=out, identity=ALICE)
    data = outcome.to_dict()
    assert data["kind"] == "PKIRenewResult"
    assert [(c["holder"], c["action"], c["detail"]) for c in data["changes"]] == [
        (ALICE, "renewed", "same key"),
        (ALICE, "renewed", "same key"),
    ]
    fresh = services.pki_renew(two_orgs, out=out, identity=ALICE, new_key=True).value
    assert [c.detail for c in fresh.changes] == ["new key", "new key"]


def test_renew_with_nothing_expiring_is_empty(
    two_orgs: topology.LoadedTopology, tmp_path: Path
) -> None:
    out = tmp_path / "crypto"
    _generate(two_orgs, out)
    result = services.pki_renew(two_orgs, out=out, expiring_within=1).value
    assert (result.changes, result.summary, result.changed) == ((), {}, False)


def test_revoke_is_idempotent(two_orgs: topology.LoadedTopology, tmp_path: Path) -> None:
    out = tmp_path / "crypto"
    _generate(two_orgs, out)
    first = services.pki_revoke(two_orgs, ALICE, out=out)
    assert first.kind == "PKIRevokeResult"
    assert first.value.summary.get("revoked") == 2
    again = services.pki_revoke(two_orgs, ALICE, out=out).value
    assert "revoked" not in again.summary
    status = services.pki_status(two_orgs, out=out).value
    assert {c.state for c in status.certificates if c.holder == ALICE} == {"revoked"}
    with pytest.raises(UsageError, match="no identity named"):
        services.pki_revoke(two_orgs, "nobody", out=out)


def test_ensure_pki_goes_through_pki_generate(
    two_orgs: topology.LoadedTopology, tmp_path: Path
) -> None:
    out = tmp_path / "crypto"
    lines: list[str] = []
    first = services.ensure_pki(two_orgs, out=out, report=lines.append)
    assert first.root == out and set(first.summary) == {"created"}
    second = services.ensure_pki(two_orgs, out=out, report=lines.append)
    assert second.summary == {"kept": 30}
    assert second.to_dict() == {"crypto": str(out), "identities": {"kept": 30}}
    assert lines == [
        f"pki {out}: 30 certificates: 30 created, 0 kept; 3 MSP folder updates",
        f"pki {out}: 30 certificates: 0 created, 30 kept",
    ]


def test_ed25519_needs_fabric_3_1(two_orgs: topology.LoadedTopology, tmp_path: Path) -> None:
    """Validation refuses it; the service guards topologies assembled by hand too."""
    network = two_orgs.network
    spec = network.spec
    ed = network.model_copy(
        update={
            "spec": spec.model_copy(
                update={"pki": spec.pki.model_copy(update={"key_algorithm": "Ed25519"})}
            )
        }
    )
    loaded = topology.LoadedTopology(two_orgs.path, ed)
    with pytest.raises(UsageError, match=r"Ed25519 keys need Fabric 3\.1"):
        services.pki_generate(loaded, out=tmp_path / "crypto")
    assert not (tmp_path / "crypto").exists()


def test_generate_into_the_home_makes_it_private(
    two_orgs: topology.LoadedTopology, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first key under a missing ``$BAAS_HOME`` lands in a home created 0700, whatever
    the umask (a shared machine's 022 would have made it 0755)."""
    home = tmp_path / "home"
    monkeypatch.setenv("BAAS_HOME", str(home))
    old = os.umask(0o022)
    try:
        services.pki_generate(two_orgs)
    finally:
        os.umask(old)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert (home / "networks" / "supplychain" / "crypto").is_dir()
