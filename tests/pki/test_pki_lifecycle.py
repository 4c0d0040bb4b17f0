"""status, renew, revoke and load_bundles against a generated tree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from pkitest import needs_openssl, openssl, snapshot, verify

from baas.errors import UsageError
from pki import generate, load_bundles, renew, revoke, status
from pki.checks import check_msp
from pki.identities import identities_of
from pki.layout import OrgPaths
from pki.spec import OrgSpec, PKIOptions

ALICE = "alice@org1.example.com"


def _alice(root: Path) -> Path:
    return root / "peerOrganizations/org1.example.com/users" / ALICE


def _serial(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


def test_status_lists_every_certificate(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    rows = status(root, orgs)
    expected = sum(2 + 2 * len(identities_of(o)) for o in orgs)
    assert len(rows) == expected
    assert {r.state for r in rows} == {"ok"}
    ca_rows = [r for r in rows if r.kind in ("ca", "tlsca")]
    assert all(r.days_left is not None and r.days_left > 3000 for r in ca_rows)
    leaf = next(r for r in rows if r.holder == ALICE and r.kind == "sign")
    assert leaf.subject == "CN=alice@org1.example.com,OU=client,O=org1.example.com"
    assert leaf.days_left in (364, 365)
    assert leaf.as_dict()["not_after"]


def test_status_flags_expiring_expired_and_missing(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs, PKIOptions(leaf_validity_days=20))
    _alice(root).joinpath("tls/client.crt").unlink()
    rows = status(root, orgs)
    by = {(r.holder, r.kind): r for r in rows}
    assert by[(ALICE, "tls")].state == "missing" and by[(ALICE, "tls")].not_after is None
    assert by[(ALICE, "sign")].state == "expiring"
    assert by[("ca.org1.example.com", "ca")].state == "ok"
    later = status(root, orgs, now=datetime.now(UTC) + timedelta(days=21))
    assert {r.state for r in later if r.kind in ("sign", "tls") and r.holder != ALICE} == {
        "expired"
    }


def test_renew_identity_keeps_key_by_default(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    alice = _alice(root)
    key = (alice / "msp/keystore/priv_sk").read_bytes()
    tls_key = (alice / "tls/client.key").read_bytes()
    old = _serial(alice / f"msp/signcerts/{ALICE}-cert.pem")
    result = renew(root, orgs, identity=ALICE)
    assert [(c.item, c.action, c.detail) for c in result.changes] == [
        ("sign", "renewed", "same key"),
        ("tls", "renewed", "same key"),
    ]
    assert (alice / "msp/keystore/priv_sk").read_bytes() == key
    assert (alice / "tls/client.key").read_bytes() == tls_key
    assert _serial(alice / f"msp/signcerts/{ALICE}-cert.pem") != old
    assert check_msp(alice / "msp") == []
    # the renewed material is current: generate keeps it
    assert not generate(root, orgs).changed


def test_renew_with_new_key(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    alice = _alice(root)
    key = (alice / "msp/keystore/priv_sk").read_bytes()
    result = renew(root, orgs, identity=ALICE, new_key=True)
    assert {c.detail for c in result.changes} == {"new key"}
    assert (alice / "msp/keystore/priv_sk").read_bytes() != key
    assert check_msp(alice / "msp") == []


def test_renew_expiring_within(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs[:2], PKIOptions(leaf_validity_days=10))
    generate(root, orgs[2:])
    before = snapshot(root)
    result = renew(root, orgs, expiring_within=30)
    renewed = {(c.org, c.item) for c in result.changes}
    assert {org for org, _ in renewed} == {"ordererorg", "org1"}
    assert len(result.changes) == 2 * sum(len(identities_of(o)) for o in orgs[:2])
    after = snapshot(root)
    org2 = [k for k in before if "org2.example.com" in k]
    assert org2 and all(before[k] == after[k] for k in org2)
    assert {r.state for r in status(root, orgs)} == {"ok"}
    assert renew(root, orgs, expiring_within=30).changes == []


def test_renew_rejects_bad_selectors(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    with pytest.raises(UsageError):
        renew(root, orgs)
    with pytest.raises(UsageError):
        renew(root, orgs, identity=ALICE, expiring_within=3)
    with pytest.raises(UsageError) as err:
        renew(root, orgs, identity="nobody@org1.example.com")
    assert "known identities" in err.value.hint


def test_renew_before_generate_is_a_usage_error(root: Path, orgs: list[OrgSpec]) -> None:
    with pytest.raises(UsageError) as err:
        renew(root, orgs, identity=ALICE)
    assert "generate" in err.value.hint


@needs_openssl
def test_revoke_publishes_crls_everywhere(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    alice = _alice(root)
    sign_serial = _serial(alice / f"msp/signcerts/{ALICE}-cert.pem")
    tls_serial = _serial(alice / "tls/client.crt")
    result = revoke(root, orgs, ALICE)
    assert [(c.item, c.action) for c in result.changes[:2]] == [
        ("sign", "revoked"),
        ("tls", "revoked"),
    ]
    paths = OrgPaths.of(root, orgs[1])
    ca, tlsca = paths.authority("ca"), paths.authority("tlsca")
    msps = paths.all_msps()
    assert len(msps) == 1 + len(identities_of(orgs[1]))
    for msp in msps:
        assert (msp / "crls" / ca.crl_name).read_bytes() == ca.crl.read_bytes()
        assert (msp / "crls" / tlsca.crl_name).read_bytes() == tlsca.crl.read_bytes()
        assert check_msp(msp) == [], msp
    for authority, serial in ((ca, sign_serial), (tlsca, tls_serial)):
        proc = openssl("crl", "-in", authority.crl, "-CAfile", authority.cert, "-noout")
        assert proc.returncode == 0 and "verify OK" in proc.stderr + proc.stdout
        crl = x509.load_pem_x509_crl(authority.crl.read_bytes())
        assert crl.get_revoked_certificate_by_serial_number(serial) is not None
        assert crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    # openssl now rejects alice's certificate when checking the CRL, and still accepts bob's
    chain = openssl(
        "verify",
        "-crl_check",
        "-CAfile",
        ca.cert,
        "-CRLfile",
        ca.crl,
        alice / f"msp/signcerts/{ALICE}-cert.pem",
    )
    assert chain.returncode != 0 and "revoked" in chain.stdout + chain.stderr
    bob = paths.dir / "users/bob@org1.example.com/msp/signcerts/bob@org1.example.com-cert.pem"
    verify(ca.cert, bob, "-crl_check", "-CRLfile", str(ca.crl))
    assert {r.state for r in status(root, orgs) if r.holder == ALICE} == {"revoked"}
    # other organisations are untouched
    assert not (root / "ordererOrganizations/example.com/msp/crls").exists()


def test_revoke_is_idempotent_and_generate_replaces_with_new_key(
    root: Path, orgs: list[OrgSpec]
) -> None:
    generate(root, orgs)
    alice = _alice(root)
    revoke(root, orgs, ALICE)
    before = snapshot(root)
    again = revoke(root, orgs, ALICE)
    assert not again.changed and snapshot(root) == before
    key = (alice / "msp/keystore/priv_sk").read_bytes()
    result = generate(root, orgs)
    changed = [(c.holder, c.item, c.detail) for c in result.changes if c.action == "reissued"]
    assert changed == [
        (ALICE, "sign", "revoked; new key"),
        (ALICE, "tls", "revoked; new key"),
    ]
    assert (alice / "msp/keystore/priv_sk").read_bytes() != key
    assert check_msp(alice / "msp") == []
    # a second revocation extends the same CRL (number goes up, both serials listed)
    crl_path = OrgPaths.of(root, orgs[1]).authority("ca").crl
    first = x509.load_pem_x509_crl(crl_path.read_bytes())
    revoke(root, orgs, ALICE)
    second = x509.load_pem_x509_crl(crl_path.read_bytes())
    assert len(list(second)) == 2 and len(list(first)) == 1
    number = second.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number == 2


def test_new_identity_after_revocation_gets_the_crl(root: Path, orgs: list[OrgSpec]) -> None:
    from dataclasses import replace

    generate(root, orgs)
    revoke(root, orgs, ALICE)
    orgs[1] = replace(orgs[1], users=(*orgs[1].users, "dave"))
    generate(root, orgs)
    dave = root / "peerOrganizations/org1.example.com/users/dave@org1.example.com/msp"
    assert sorted(p.name for p in (dave / "crls").iterdir()) == [
        "ca.org1.example.com-crl.pem",
        "tlsca.org1.example.com-crl.pem",
    ]


def test_revoke_unknown_or_absent(root: Path, orgs: list[OrgSpec]) -> None:
    with pytest.raises(UsageError):
        revoke(root, orgs, "nobody")
    generate(root, orgs)
    alice = _alice(root)
    (alice / f"msp/signcerts/{ALICE}-cert.pem").unlink()
    (alice / "tls/client.crt").unlink()
    with pytest.raises(UsageError):
        revoke(root, orgs, ALICE)


def test_load_bundles(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    bundles = load_bundles(root, orgs[1])
    assert [b.name for b in bundles] == [i.name for i in identities_of(orgs[1])]
    admin = next(b for b in bundles if b.role == "admin")
    assert admin.msp_id == "Org1MSP" and admin.org == "org1"
    org1 = root / "peerOrganizations/org1.example.com"
    assert admin.ca_cert == (org1 / "ca/ca.org1.example.com-cert.pem").read_bytes()
    assert admin.tls_ca_cert == (org1 / "tlsca/tlsca.org1.example.com-cert.pem").read_bytes()
    user_dir = org1 / "users/Admin@org1.example.com"
    assert admin.sign_key.reveal() == (user_dir / "msp/keystore/priv_sk").read_bytes()
    assert admin.tls_cert == (user_dir / "tls/client.crt").read_bytes()
    text = repr(bundles)
    assert "PRIVATE KEY" not in text
    assert repr(admin.sign_key) == str(admin.tls_key) == "SecretBytes(<redacted>)"


def test_load_bundles_reports_missing_files(root: Path, orgs: list[OrgSpec]) -> None:
    with pytest.raises(UsageError) as err:
        load_bundles(root, orgs[0])
    assert "generate" in err.value.hint
    generate(root, orgs)
    peer = root / "peerOrganizations/org1.example.com/peers/peer0.org1.example.com"
    other = root / "peerOrganizations/org1.example.com/peers/peer1.org1.example.com"
    (peer / "tls/server.key").write_bytes((other / "tls/server.key").read_bytes())
    with pytest.raises(UsageError) as err:
        load_bundles(root, orgs[1])
    assert "does not belong" in err.value.message
    assert "PRIVATE KEY" not in str(err.value)
