"""The MSP checker catches what Fabric rejects; low-S re-encoding keeps signatures valid."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pkitest import needs_openssl, verify

from pki import generate
from pki.checks import check_msp, check_tls
from pki.lowsig import CURVE_ORDERS, is_high_s, normalize_signed, replace_signature
from pki.spec import OrgSpec

ORG1 = "peerOrganizations/org1.example.com"
PEER = f"{ORG1}/peers/peer0.org1.example.com"
SIGNCERT = "signcerts/peer0.org1.example.com-cert.pem"


@pytest.fixture
def msp(root: Path, orgs: list[OrgSpec], tmp_path: Path) -> Path:
    """A private copy of peer0.org1's MSP."""
    generate(root, orgs)
    copy = tmp_path / "msp"
    shutil.copytree(root / PEER / "msp", copy)
    return copy


def _ca_key(root: Path) -> ec.EllipticCurvePrivateKey:
    key = load_pem_private_key((root / ORG1 / "ca/priv_sk").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _reissue(
    root: Path,
    msp: Path,
    *,
    ous: list[str],
    eku: list[x509.ObjectIdentifier] | None,
    ca: bool = False,
) -> None:
    """Replace the MSP's signcert with one signed by the real CA but with the given profile."""
    old = x509.load_pem_x509_certificate((msp / SIGNCERT).read_bytes())
    ca_cert = x509.load_pem_x509_certificate(
        (msp / "cacerts/ca.org1.example.com-cert.pem").read_bytes()
    )
    names = [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou) for ou in ous]
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([*names, x509.NameAttribute(NameOID.COMMON_NAME, "peer0")]))
        .issuer_name(ca_cert.subject)
        .public_key(old.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    cert = builder.sign(_ca_key(root), hashes.SHA256())
    (msp / SIGNCERT).write_bytes(cert.public_bytes(Encoding.PEM))


def test_good_msp_has_no_problems(msp: Path) -> None:
    assert check_msp(msp) == []


def test_client_auth_only_eku_is_rejected(root: Path, msp: Path) -> None:
    _reissue(root, msp, ous=["peer"], eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    assert any("serverAuth" in p for p in check_msp(msp))


def test_server_auth_eku_is_fine(root: Path, msp: Path) -> None:
    eku = [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
    _reissue(root, msp, ous=["peer"], eku=eku)
    assert check_msp(msp) == []


def test_node_ou_must_be_exactly_one(root: Path, msp: Path) -> None:
    _reissue(root, msp, ous=["peer", "admin"], eku=None)
    assert any("exactly one NodeOU" in p for p in check_msp(msp))
    _reissue(root, msp, ous=["engineering"], eku=None)
    assert any("exactly one NodeOU" in p for p in check_msp(msp))


def test_ca_cert_cannot_be_identity(root: Path, msp: Path) -> None:
    _reissue(root, msp, ous=["peer"], eku=None, ca=True)
    assert any("cannot be an identity" in p for p in check_msp(msp))


def test_ca_without_ski_is_rejected(msp: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bare")])
    now = datetime.now(UTC)
    bare = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (msp / "tlscacerts/bare.pem").write_bytes(bare.public_bytes(Encoding.PEM))
    assert any("Subject Key Identifier" in p for p in check_msp(msp))


def test_empty_cacerts(msp: Path) -> None:
    for f in (msp / "cacerts").iterdir():
        f.unlink()
    problems = check_msp(msp)
    assert any("cacerts/: missing or empty" in p for p in problems)


def test_key_mode_and_mismatch(msp: Path) -> None:
    key = msp / "keystore/priv_sk"
    key.chmod(0o644)
    assert any("must be 0600" in p for p in check_msp(msp))
    other = ec.generate_private_key(ec.SECP256R1())
    from cryptography.hazmat.primitives import serialization

    key.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)
    problems = check_msp(msp)
    assert problems == ["keystore/: no key matches the signcert's public key"]


def test_config_yaml_keys_are_case_sensitive(msp: Path) -> None:
    cfg = msp / "config.yaml"
    cfg.write_text(cfg.read_text().replace("ClientOUIdentifier", "clientOUIdentifier"))
    problems = check_msp(msp)
    assert any("unknown NodeOUs keys" in p for p in problems)
    assert any("ClientOUIdentifier.OrganizationalUnitIdentifier missing" in p for p in problems)
    cfg.unlink()
    assert any("config.yaml: missing" in p for p in check_msp(msp))


def test_signcert_with_extra_pem_block(msp: Path) -> None:
    path = msp / SIGNCERT
    path.write_bytes(path.read_bytes() + path.read_bytes())
    assert any("exactly one CERTIFICATE" in p for p in check_msp(msp))


def test_tls_checker(root: Path, orgs: list[OrgSpec]) -> None:
    generate(root, orgs)
    tls = root / PEER / "tls"
    assert check_tls(tls, server=True) == []
    user_tls = root / ORG1 / "users/alice@org1.example.com/tls"
    assert check_tls(user_tls, server=True) == ["tls/: unreadable material (FileNotFoundError)"]
    (tls / "server.key").chmod(0o640)
    assert check_tls(tls, server=True) == ["server.key: mode 640, must be 0600"]


@needs_openssl
def test_low_s_rewrite_keeps_a_valid_signature(
    root: Path, orgs: list[OrgSpec], tmp_path: Path
) -> None:
    generate(root, orgs)
    path = root / PEER / "msp" / SIGNCERT
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    der = cert.public_bytes(Encoding.DER)
    order = CURVE_ORDERS["secp256r1"]
    r, s = decode_dss_signature(cert.signature)
    assert s <= order // 2
    high = replace_signature(der, encode_dss_signature(r, order - s))
    assert is_high_s(x509.load_der_x509_certificate(high).signature, "secp256r1")
    high_pem = tmp_path / "high.pem"
    high_pem.write_bytes(x509.load_der_x509_certificate(high).public_bytes(Encoding.PEM))
    ca = root / ORG1 / "ca/ca.org1.example.com-cert.pem"
    verify(ca, high_pem)  # high-S is still a valid ECDSA signature for OpenSSL
    assert normalize_signed(high, "secp256r1") == der
    assert normalize_signed(der, "secp256r1") is der
    assert normalize_signed(der, None) is der
