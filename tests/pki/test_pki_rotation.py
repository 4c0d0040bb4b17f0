"""TLS CA rotation in the tree: rotate_ca → reissue_tls → retire_ca, both CAs trusted meanwhile,
every step idempotent and an interrupted promotion finished by the next run."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from pkitest import needs_openssl, snapshot, verify

from baas.errors import UsageError
from pki import (
    generate,
    identity_digests,
    load_bundles,
    preview_generate,
    reissue_tls,
    retire_ca,
    rotate_ca,
    rotation_state,
    rotations,
    status,
)
from pki.checks import check_msp, check_tls
from pki.identities import identities_of
from pki.layout import OrgPaths
from pki.spec import OrgSpec

PEER0 = "peer0.org1.example.com"


def _org1(orgs: list[OrgSpec]) -> OrgSpec:
    return next(o for o in orgs if o.name == "org1")


def _certs(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def _tls_roots(msp: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted((msp / "tlscacerts").iterdir())]


def test_rotate_trusts_both_and_keeps_leaves(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    org1 = _org1(orgs)
    paths = OrgPaths.of(root, org1)
    old_pem = paths.authority("tlsca").cert.read_bytes()
    old_key = paths.authority("tlsca").key.read_bytes()
    sign_ca = paths.authority("ca").cert.read_bytes()
    leaves = {i.name: paths.identity(i).tls_cert.read_bytes() for i in identities_of(org1)}
    before = snapshot(root)
    digests = identity_digests(root, orgs)

    result = rotate_ca(root, orgs, "org1")

    assert [(c.item, c.action) for c in result.changes][:1] == [("tlsca", "created")]
    new_pem = paths.authority("tlsca").cert.read_bytes()
    assert new_pem != old_pem
    assert paths.retiring("tlsca").cert.read_bytes() == old_pem
    assert paths.retiring("tlsca").key.read_bytes() == old_key
    assert not paths.incoming("tlsca").dir.exists()
    for key in (paths.authority("tlsca").key, paths.retiring("tlsca").key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.retiring("tlsca").dir.stat().st_mode) == 0o700
    # the signing CA and every leaf are untouched; the next CA has the same name
    assert paths.authority("ca").cert.read_bytes() == sign_ca
    new = x509.load_pem_x509_certificate(new_pem)
    assert new.subject == x509.load_pem_x509_certificate(old_pem).subject
    for ident in identities_of(org1):
        ipaths = paths.identity(ident)
        assert ipaths.tls_cert.read_bytes() == leaves[ident.name]
        assert ipaths.tls_ca.read_bytes() == new_pem + old_pem
        assert check_tls(ipaths.tls, server=ident.is_node) == []
    for msp in paths.all_msps():
        assert _tls_roots(msp) == [new_pem, old_pem], msp
        assert check_msp(msp) == [], msp
    # other organisations are untouched; only org1's nodes get new digests (their bundle)
    after = snapshot(root)
    others = [k for k in before if "org1.example.com" not in k]
    assert all(before[k] == after[k] for k in others)
    changed = {n for n, d in identity_digests(root, orgs).items() if digests[n] != d}
    assert changed == {i.name for i in identities_of(org1) if i.is_node}

    # generate keeps the retiring CA's leaves and the bundles; rotate again is a no-op
    assert not generate(root, orgs).changed
    assert not preview_generate(root, orgs).issues
    settled = snapshot(root)
    again = rotate_ca(root, orgs, "org1")
    assert [c.action for c in again.changes] == ["kept"]
    assert snapshot(root) == settled

    state = rotation_state(root, org1)
    assert state is not None and state.current_pem == new_pem and state.retiring_pem == old_pem
    assert state.pending == tuple(i.name for i in identities_of(org1))
    assert state.nodes == (PEER0, "peer1.org1.example.com")
    assert [r.org for r in rotations(root, orgs)] == ["org1"]
    rows = [r for r in status(root, orgs) if r.org == "org1" and r.kind == "tlsca"]
    assert [r.holder for r in rows] == [
        "tlsca.org1.example.com",
        "tlsca.org1.example.com (retiring)",
    ]
    bundles = {b.name: b for b in load_bundles(root, org1)}
    assert bundles[PEER0].tls_ca_cert == new_pem + old_pem


@needs_openssl
def test_reissue_then_retire(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    org1 = _org1(orgs)
    paths = OrgPaths.of(root, org1)
    rotate_ca(root, orgs, "org1")
    new_pem = paths.authority("tlsca").cert.read_bytes()
    peer0 = paths.identity(identities_of(org1)[0])
    old_key = peer0.tls_key.read_bytes()

    with pytest.raises(UsageError, match="still hold"):
        retire_ca(root, orgs, "org1")
    assert paths.retiring("tlsca").dir.exists()

    change = reissue_tls(root, orgs, PEER0)
    assert (change.action, change.detail) == ("reissued", "from the new TLS CA; new key")
    assert peer0.tls_key.read_bytes() != old_key
    assert stat.S_IMODE(peer0.tls_key.stat().st_mode) == 0o600
    verify(paths.authority("tlsca").cert, peer0.tls_cert)
    assert check_tls(peer0.tls, server=True) == []
    assert reissue_tls(root, orgs, PEER0).action == "kept"
    state = rotation_state(root, org1)
    assert state is not None and PEER0 not in state.pending and state.pending

    for ident in identities_of(org1)[1:]:
        reissue_tls(root, orgs, ident.name)
    state = rotation_state(root, org1)
    assert state is not None and state.ready_to_retire
    assert not generate(root, orgs).changed

    result = retire_ca(root, orgs, "org1")
    assert result.changes[0].action == "retired"
    assert not paths.retiring("tlsca").dir.exists()
    for msp in paths.all_msps():
        assert _tls_roots(msp) == [new_pem], msp
        assert check_msp(msp) == [], msp
    for ident in identities_of(org1):
        ipaths = paths.identity(ident)
        assert ipaths.tls_ca.read_bytes() == new_pem
        assert check_tls(ipaths.tls, server=ident.is_node) == []
    assert rotation_state(root, org1) is None
    assert retire_ca(root, orgs, "org1").changes == []
    assert not generate(root, orgs).changed


def test_new_identity_during_rotation_gets_the_next_ca(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    rotate_ca(root, orgs, "org1")
    org1 = _org1(orgs)
    grown = [
        o if o.name != "org1" else OrgSpec(o.name, o.msp_id, o.domain, o.nodes, (*o.users, "dave"))
        for o in orgs
    ]
    generate(root, grown)
    paths = OrgPaths.of(root, org1)
    dave = paths.dir / "users/dave@org1.example.com/tls"
    assert x509.load_pem_x509_certificate((dave / "client.crt").read_bytes()).issuer
    assert check_tls(dave, server=False) == []
    state = rotation_state(root, next(o for o in grown if o.name == "org1"))
    assert state is not None and "dave@org1.example.com" not in state.pending


def test_interrupted_promotion_is_finished(root: Path, orgs: list[OrgSpec]) -> None:
    """A crash after the next CA was written but before it was promoted: plan/renew refuse
    clearly, generate (or rotate-ca) finishes the promotion."""
    generate(root, orgs)
    org1 = _org1(orgs)
    paths = OrgPaths.of(root, org1)
    old_pem = paths.authority("tlsca").cert.read_bytes()
    rotate_ca(root, orgs, "org1")
    new_pem = paths.authority("tlsca").cert.read_bytes()
    new_key = paths.authority("tlsca").key.read_bytes()
    # rebuild the moment before promotion: next CA in incoming/, current CA still the old one
    incoming = paths.incoming("tlsca")
    incoming.dir.mkdir(mode=0o700)
    incoming.cert.write_bytes(new_pem)
    incoming.key.write_bytes(new_key)
    paths.authority("tlsca").cert.write_bytes(old_pem)
    paths.authority("tlsca").key.write_bytes(paths.retiring("tlsca").key.read_bytes())
    for f in paths.retiring("tlsca").dir.iterdir():
        f.unlink()
    paths.retiring("tlsca").dir.rmdir()

    with pytest.raises(UsageError, match="interrupted"):
        rotation_state(root, org1)
    result = generate(root, orgs)
    assert ("tlsca", "created") in {(c.item, c.action) for c in result.changes}
    assert paths.authority("tlsca").cert.read_bytes() == new_pem
    assert paths.retiring("tlsca").cert.read_bytes() == old_pem
    assert not incoming.dir.exists()
    for msp in paths.all_msps():
        assert _tls_roots(msp) == [new_pem, old_pem]


def test_torn_incoming_is_dropped(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    paths = OrgPaths.of(root, _org1(orgs))
    old_pem = paths.authority("tlsca").cert.read_bytes()
    incoming = paths.incoming("tlsca")
    incoming.dir.mkdir(mode=0o700)
    incoming.key.write_bytes(b"-----BEGIN PRIVATE KEY-----\ntorn")
    assert not generate(root, orgs).changed
    assert not incoming.dir.exists()
    assert paths.authority("tlsca").cert.read_bytes() == old_pem


def test_refusals(root: Path, orgs: list[OrgSpec]) -> None:
    with pytest.raises(UsageError, match="generate"):
        rotate_ca(root, orgs, "org1")
    generate(root, orgs)
    with pytest.raises(UsageError, match="no organisation") as err:
        rotate_ca(root, orgs, "org9")
    assert "org1" in err.value.hint
    with pytest.raises(UsageError, match="signing") as err:
        rotate_ca(root, orgs, "org1", kind="ca")
    assert "--tls" in err.value.hint
    assert rotations(root, orgs) == []
