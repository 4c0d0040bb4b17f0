"""generate: layout, certificate profiles, openssl chains, Fabric MSP rules, idempotence."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pkitest import needs_openssl, peer, sample_orgs, snapshot, verify

from baas.errors import UsageError
from pki import Progress, generate
from pki.checks import check_msp, check_tls
from pki.identities import identities_of
from pki.layout import OrgPaths
from pki.lowsig import is_high_s
from pki.spec import KeyAlgorithm, OrgSpec, PKIOptions


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _all_identity_paths(root: Path, orgs: list[OrgSpec]):  # type: ignore[no-untyped-def]
    for org in orgs:
        paths = OrgPaths.of(root, org)
        for ident in identities_of(org):
            yield org, paths, ident, paths.identity(ident)


@pytest.fixture(scope="module", params=["P-256", "P-384", "Ed25519"])
def tree(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    algorithm: KeyAlgorithm = request.param
    root = tmp_path_factory.mktemp(f"crypto-{algorithm}")
    orgs = sample_orgs()
    generate(root, orgs, PKIOptions(key_algorithm=algorithm))
    return algorithm, root, orgs


def test_layout_follows_cryptogen(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    orderer_org = root / "ordererOrganizations/example.com"
    assert (orderer_org / "ca/ca.example.com-cert.pem").is_file()
    assert (orderer_org / "tlsca/tlsca.example.com-cert.pem").is_file()
    assert (orderer_org / "orderers/orderer0.example.com/tls/server.crt").is_file()
    assert (orderer_org / "users/Admin@example.com/tls/client.key").is_file()
    org1 = root / "peerOrganizations/org1.example.com"
    peer0 = org1 / "peers/peer0.org1.example.com"
    for rel in (
        "msp/keystore/priv_sk",
        "msp/signcerts/peer0.org1.example.com-cert.pem",
        "msp/cacerts/ca.org1.example.com-cert.pem",
        "msp/tlscacerts/tlsca.org1.example.com-cert.pem",
        "msp/config.yaml",
        "tls/ca.crt",
        "tls/server.crt",
        "tls/server.key",
    ):
        assert (peer0 / rel).is_file(), rel
    assert (org1 / "users/alice@org1.example.com/tls/client.crt").is_file()
    assert (org1 / "msp/config.yaml").is_file()
    assert not (org1 / "msp/keystore").exists()
    # an org running peers and orderers keeps its orderers under peerOrganizations/
    assert (root / "peerOrganizations/org2.example.com/orderers/orderer0.org2.example.com").is_dir()
    assert not (root / "ordererOrganizations/org2.example.com").exists()


def test_private_files_and_folders_are_closed(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    keys = [p for p in root.rglob("*") if p.name in ("priv_sk", "server.key", "client.key")]
    assert len(keys) == 2 * 3 + 2 * sum(len(identities_of(o)) for o in orgs)
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
        assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700, key.parent
        assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


@needs_openssl
def test_every_chain_verifies_with_openssl(tree) -> None:  # type: ignore[no-untyped-def]
    _, root, orgs = tree
    for _, paths, ident, ipaths in _all_identity_paths(root, orgs):
        verify(paths.authority("ca").cert, ipaths.sign_cert)
        purpose = "sslserver" if ident.is_node else "sslclient"
        verify(paths.authority("tlsca").cert, ipaths.tls_cert, "-purpose", purpose)
        verify(ipaths.tls_ca, ipaths.tls_cert, "-purpose", "sslclient")
        # TLS certs chain to the TLS CA only, never to the signing CA
        with pytest.raises(AssertionError):
            verify(paths.authority("ca").cert, ipaths.tls_cert)


def test_every_msp_passes_fabric_rules(tree) -> None:  # type: ignore[no-untyped-def]
    _, root, orgs = tree
    for org in orgs:
        assert check_msp(OrgPaths.of(root, org).msp) == [], org.name
    for _, _, ident, ipaths in _all_identity_paths(root, orgs):
        assert check_msp(ipaths.msp) == [], ident.name
        assert check_tls(ipaths.tls, server=ident.is_node) == [], ident.name


def test_profiles(tree) -> None:  # type: ignore[no-untyped-def]
    algorithm, root, orgs = tree
    now = datetime.now(UTC)
    for org in orgs:
        paths = OrgPaths.of(root, org)
        for kind in ("ca", "tlsca"):
            ca = _cert(paths.authority(kind).cert)
            assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
            usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
            assert usage.key_cert_sign and usage.crl_sign and usage.digital_signature
            ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            assert len(ski.digest) == 32
            days = (ca.not_valid_after_utc - ca.not_valid_before_utc).days
            assert days == PKIOptions().ca_validity_days
        for ident in identities_of(org):
            ipaths = paths.identity(ident)
            sign, tls = _cert(ipaths.sign_cert), _cert(ipaths.tls_cert)
            for cert in (sign, tls):
                assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
                assert cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
                assert cert.serial_number.bit_length() > 128 - 16
                assert cert.not_valid_before_utc < now
                assert (now - cert.not_valid_before_utc).total_seconds() < 15 * 60
                assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 365
                assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
                    ident.name
                )
            ous = [
                a.value
                for a in sign.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
            ]
            assert ous == [ident.role]
            with pytest.raises(x509.ExtensionNotFound):
                sign.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
            eku = tls.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
            tls_key = tls.public_key()
            assert isinstance(tls_key, ec.EllipticCurvePublicKey)
            assert tls_key.curve.name == ("secp384r1" if algorithm == "P-384" else "secp256r1")
            key = sign.public_key()
            if ident.role == "admin" or algorithm != "Ed25519":
                assert isinstance(key, ec.EllipticCurvePublicKey)
                want = "secp384r1" if algorithm == "P-384" else "secp256r1"
                assert key.curve.name == want
            else:
                assert isinstance(key, ed25519.Ed25519PublicKey)


def test_tls_sans_cover_names_and_ips(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    org1 = root / "peerOrganizations/org1.example.com"
    cert = _cert(org1 / "peers/peer0.org1.example.com/tls/server.crt")
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [
        "peer0.org1.example.com",
        "peer0",
        "peer0.net-org1.svc",
        "localhost",
    ]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    user = _cert(org1 / "users/alice@org1.example.com/tls/client.crt")
    with pytest.raises(x509.ExtensionNotFound):
        user.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_signatures_are_low_s_canonical(tree) -> None:  # type: ignore[no-untyped-def]
    _, root, _ = tree
    certs = [_cert(p) for p in root.rglob("*") if p.suffix in (".pem", ".crt")]
    curves = {
        x509.oid.SignatureAlgorithmOID.ECDSA_WITH_SHA256: "secp256r1",
        x509.oid.SignatureAlgorithmOID.ECDSA_WITH_SHA384: "secp384r1",
    }
    ecdsa = [c for c in certs if c.signature_algorithm_oid in curves]
    assert ecdsa  # TLS material is ECDSA even for Ed25519 networks
    for cert in ecdsa:
        curve = curves[cert.signature_algorithm_oid]
        assert not is_high_s(cert.signature, curve)
        r, s = decode_dss_signature(cert.signature)
        assert encode_dss_signature(r, s) == cert.signature


def test_second_run_changes_nothing(root: Path, orgs: list[OrgSpec]) -> None:
    first = generate(root, orgs)
    assert first.changed and not first.by_action("kept")
    before = snapshot(root)
    second = generate(root, orgs)
    assert not second.changed
    assert {c.action for c in second.changes} == {"kept"}
    assert snapshot(root) == before


def test_adding_a_peer_issues_only_its_material(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    before = snapshot(root)
    org1 = orgs[1]
    orgs[1] = replace(org1, nodes=(*org1.nodes, peer("org1", 2)))
    result = generate(root, orgs)
    assert {(c.holder, c.item) for c in result.changes if c.action == "created"} == {
        ("peer2.org1.example.com", "sign"),
        ("peer2.org1.example.com", "tls"),
    }
    after = snapshot(root)
    assert {k: v for k, v in after.items() if k in before} == before
    new = sorted(set(after) - set(before))
    assert new and all("/peers/peer2.org1.example.com/" in k for k in new)


def test_adding_an_org_leaves_others_alone(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs[:2])
    before = snapshot(root)
    result = generate(root, orgs)
    created_orgs = {c.org for c in result.changes if c.action != "kept"}
    assert created_orgs == {"org2"}
    after = snapshot(root)
    assert {k: v for k, v in after.items() if k in before} == before


def test_changed_sans_reissue_tls_with_same_key(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    ipath = root / "peerOrganizations/org1.example.com/peers/peer1.org1.example.com"
    key_before = (ipath / "tls/server.key").read_bytes()
    sign_before = (ipath / "msp/signcerts/peer1.org1.example.com-cert.pem").read_bytes()
    node = orgs[1].nodes[1]
    orgs[1] = replace(orgs[1], nodes=(orgs[1].nodes[0], replace(node, sans=("peer1.svc",))))
    result = generate(root, orgs)
    changed = [c for c in result.changes if c.action != "kept"]
    assert [(c.holder, c.item, c.action) for c in changed] == [
        ("peer1.org1.example.com", "tls", "reissued")
    ]
    assert "SANs changed" in changed[0].detail and "same key" in changed[0].detail
    assert (ipath / "tls/server.key").read_bytes() == key_before
    assert (ipath / "msp/signcerts/peer1.org1.example.com-cert.pem").read_bytes() == sign_before
    san = _cert(ipath / "tls/server.crt").extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert "peer1.svc" in san.value.get_values_for_type(x509.DNSName)


def test_lost_key_is_replaced_with_a_new_one(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    alice = root / "peerOrganizations/org1.example.com/users/alice@org1.example.com"
    (alice / "msp/keystore/priv_sk").unlink()
    result = generate(root, orgs)
    changed = [c for c in result.changes if c.action != "kept"]
    assert [(c.holder, c.item, c.action) for c in changed] == [
        ("alice@org1.example.com", "sign", "reissued")
    ]
    assert check_msp(alice / "msp") == []


def test_existing_ca_is_kept_and_damaged_ca_is_refused(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    ca_dir = root / "peerOrganizations/org1.example.com/ca"
    before = (ca_dir / "ca.org1.example.com-cert.pem").read_bytes()
    generate(root, orgs)
    assert (ca_dir / "ca.org1.example.com-cert.pem").read_bytes() == before
    secret = (ca_dir / "priv_sk").read_bytes()
    (ca_dir / "priv_sk").unlink()
    with pytest.raises(UsageError) as err:
        generate(root, orgs)
    assert "priv_sk" in str(err.value)
    assert secret.decode() not in str(err.value)


def test_new_ca_reissues_the_org(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    org_dir = root / "peerOrganizations/org1.example.com"
    for kind in ("ca", "tlsca"):
        for f in (org_dir / kind).iterdir():
            f.unlink()
        (org_dir / kind).rmdir()
    result = generate(root, orgs)
    reissued = {c.holder for c in result.changes if c.action == "reissued"}
    assert reissued == {i.name for i in identities_of(orgs[1])}
    assert all(c.org == "org1" for c in result.changes if c.action != "kept")
    assert check_msp(org_dir / "peers/peer0.org1.example.com/msp") == []


def test_progress_reports_every_step(root: Path, orgs: list[OrgSpec]) -> None:
    seen: list[Progress] = []
    generate(root, orgs, progress=seen.append)
    total = sum(1 + len(identities_of(o)) for o in orgs)
    assert [p.done for p in seen] == list(range(1, total + 1))
    assert all(p.total == total for p in seen)


@pytest.mark.parametrize(
    "bad",
    [
        OrgSpec("x", "XMSP", "../evil"),
        OrgSpec("x", "XMSP", "x.example.com", users=("Admin",)),
        OrgSpec("x", "XMSP", "x.example.com", users=("a/b",)),
        OrgSpec("x", "XMSP", "x.example.com", (peer("x", 0), peer("x", 0))),
    ],
)
def test_unsafe_or_duplicate_names_are_refused(root: Path, bad: OrgSpec) -> None:
    with pytest.raises(UsageError):
        generate(root, [bad])
    assert not root.exists()


def test_bad_options_are_refused(root: Path, orgs: list[OrgSpec]) -> None:
    with pytest.raises(UsageError):
        generate(root, orgs, PKIOptions(leaf_validity_days=0))


def test_now_is_injectable(root: Path, orgs: list[OrgSpec]) -> None:
    when = datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC)
    generate(root, orgs[:1], now=when)
    cert = _cert(root / "ordererOrganizations/example.com/ca/ca.example.com-cert.pem")
    assert cert.not_valid_before_utc == datetime(2030, 1, 1, 11, 55, tzinfo=UTC)


def test_org_that_changes_folder_is_not_silently_re_rooted(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs[:1])
    orderer_org = orgs[0]
    orgs[0] = replace(orderer_org, nodes=(*orderer_org.nodes, peer("ordererorg", 0)))
    with pytest.raises(UsageError) as err:
        generate(root, orgs[:1])
    assert "mv " in err.value.hint
    assert not (root / "peerOrganizations").exists()
