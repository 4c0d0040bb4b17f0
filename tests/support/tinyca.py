"""A tiny self-signed CA that issues :class:`pki.bundle.IdentityBundle` objects for tests.

Real P-256 keys and X.509 certificates (via ``cryptography``), shaped roughly like cryptogen's
(CA with SKI, leaves carrying the node OU), but with none of the real PKI's checks: use it to feed
secret stores and anything else that only *moves* bundles. ``pki.load_bundles`` replaces it once
the real PKI is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pki.bundle import IdentityBundle, SecretBytes
from pki.spec import IdentityRole


@dataclass(frozen=True)
class TinyCA:
    """A CA certificate (PEM) and its key; :meth:`issue` signs leaves."""

    cert_pem: bytes
    _key: ec.EllipticCurvePrivateKey = field(repr=False)
    _cert: x509.Certificate = field(repr=False)

    @classmethod
    def create(cls, common_name: str) -> TinyCA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert.public_bytes(serialization.Encoding.PEM), key, cert)

    def issue(self, common_name: str, *, ou: str = "") -> tuple[bytes, SecretBytes]:
        """A leaf certificate (PEM) and its PKCS#8 key (PEM, wrapped) for ``common_name``."""
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if ou:
            attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM), SecretBytes(key_pem)


def org_bundles(
    org: str = "org1",
    *,
    domain: str | None = None,
    msp_id: str | None = None,
    peers: Sequence[str] = ("peer0", "peer1"),
    orderers: Sequence[str] = (),
    users: Sequence[str] = ("alice",),
) -> list[IdentityBundle]:
    """Bundles of one organisation: its nodes, ``Admin@<domain>`` and its users.

    Defaults: domain ``<org>.example.com``, MSP id ``<Org>MSP``. Fresh CAs and keys every call.
    """
    domain = domain or f"{org}.example.com"
    msp_id = msp_id or f"{org.capitalize()}MSP"
    ca = TinyCA.create(f"ca.{domain}")
    tlsca = TinyCA.create(f"tlsca.{domain}")
    wanted: list[tuple[str, IdentityRole]] = [(f"{p}.{domain}", "peer") for p in peers]
    wanted += [(f"{o}.{domain}", "orderer") for o in orderers]
    wanted += [(f"Admin@{domain}", "admin")]
    wanted += [(f"{u}@{domain}", "client") for u in users]
    bundles = []
    for name, role in wanted:
        sign_cert, sign_key = ca.issue(name, ou=role)
        tls_cert, tls_key = tlsca.issue(name)
        bundles.append(
            IdentityBundle(
                org=org,
                msp_id=msp_id,
                name=name,
                role=role,
                sign_cert=sign_cert,
                sign_key=sign_key,
                ca_cert=ca.cert_pem,
                tls_cert=tls_cert,
                tls_key=tls_key,
                tls_ca_cert=tlsca.cert_pem,
            )
        )
    return bundles
