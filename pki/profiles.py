"""Certificate profiles that satisfy Fabric's MSP rules (fabric.md §1.3-1.6).

* CA (signing and TLS): self-signed, CA:TRUE (critical, path length 0), SKI, KeyUsage
  digitalSignature+keyEncipherment+certSign+cRLSign (critical), no EKU.
* Signing (enrollment) leaf: CA:FALSE, KeyUsage digitalSignature, **no EKU** (Fabric verifies
  chains for serverAuth, so clientAuth alone would be rejected), Subject OU = exactly one NodeOU.
* TLS leaf: CA:FALSE, KeyUsage digitalSignature+keyEncipherment, EKU serverAuth+clientAuth,
  SANs (DNS names, IP addresses as IP SANs) for nodes.
Every certificate: random 159-bit serial, NotBefore 5 minutes in the past, leaves carry AKI (=
issuer SKI) and SKI, ECDSA signatures are low-S canonical DER.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki import lowsig
from pki.keys import PrivateKey, PublicKey, key_identifier, signature_hash
from pki.spec import IdentityRole

BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class Authority:
    """A CA ready to sign: its certificate, PEM bytes as on disk, and private key."""

    cert: x509.Certificate
    cert_pem: bytes
    key: PrivateKey

    @property
    def ski(self) -> bytes:
        ext = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        return ext.value.digest

    def __repr__(self) -> str:
        return f"Authority({self.cert.subject.rfc4514_string()})"


def _usage(*, sign: bool, encipher: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=encipher,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _sign(builder: x509.CertificateBuilder, key: PrivateKey) -> x509.Certificate:
    cert = builder.sign(key, signature_hash(key))
    curve = key.curve.name if isinstance(key, ec.EllipticCurvePrivateKey) else None
    der = cert.public_bytes(Encoding.DER)
    fixed = lowsig.normalize_signed(der, curve)
    return cert if fixed is der else x509.load_der_x509_certificate(fixed)


def _base(
    *, subject: x509.Name, issuer: x509.Name, public_key: PublicKey, now: datetime, days: int
) -> x509.CertificateBuilder:
    start = now.replace(second=0, microsecond=0) - BACKDATE
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier(key_identifier(public_key)), critical=False)
    )


def ca_name(common_name: str, domain: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, domain),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def ca_certificate(
    *, common_name: str, domain: str, key: PrivateKey, now: datetime, days: int
) -> x509.Certificate:
    """A self-signed root CA certificate for ``key``."""
    name = ca_name(common_name, domain)
    builder = (
        _base(subject=name, issuer=name, public_key=key.public_key(), now=now, days=days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=True, encipher=True, ca=True), critical=True)
    )
    return _sign(builder, key)


def _leaf(
    *, ca: Authority, subject: x509.Name, public_key: PublicKey, now: datetime, days: int
) -> x509.CertificateBuilder:
    aki = x509.AuthorityKeyIdentifier(
        key_identifier=ca.ski, authority_cert_issuer=None, authority_cert_serial_number=None
    )
    return (
        _base(subject=subject, issuer=ca.cert.subject, public_key=public_key, now=now, days=days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(aki, critical=False)
    )


def signing_certificate(
    *,
    ca: Authority,
    name: str,
    domain: str,
    role: IdentityRole,
    public_key: PublicKey,
    now: datetime,
    days: int,
) -> x509.Certificate:
    """An enrollment (MSP signcert) certificate: Subject OU = ``role``, no EKU."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, domain),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    builder = _leaf(ca=ca, subject=subject, public_key=public_key, now=now, days=days)
    builder = builder.add_extension(_usage(sign=True, encipher=False, ca=False), critical=True)
    return _sign(builder, ca.key)


def normalize_san(san: str) -> str:
    """An IP literal in canonical form (``::1``), any other name unchanged."""
    try:
        return str(ipaddress.ip_address(san))
    except ValueError:
        return san


def san_entries(sans: tuple[str, ...]) -> list[x509.GeneralName]:
    """DNS names as DNSName, IPv4/IPv6 literals as IPAddress."""
    entries: list[x509.GeneralName] = []
    for san in sans:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            entries.append(x509.DNSName(san))
    return entries


def tls_certificate(
    *,
    ca: Authority,
    name: str,
    domain: str,
    sans: tuple[str, ...],
    public_key: PublicKey,
    now: datetime,
    days: int,
) -> x509.Certificate:
    """A TLS certificate usable as server and client (EKU serverAuth+clientAuth)."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, domain),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    builder = (
        _leaf(ca=ca, subject=subject, public_key=public_key, now=now, days=days)
        .add_extension(_usage(sign=True, encipher=True, ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(san_entries(sans)), critical=False
        )
    return _sign(builder, ca.key)


def node_ous(cert: x509.Certificate) -> list[str]:
    """The Subject OU values of ``cert`` (in order)."""
    return [
        str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    ]


def common_name(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def sans_of(cert: x509.Certificate) -> tuple[str, ...]:
    """SAN entries as strings (DNS names and IP addresses), empty when there is no SAN."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    dns = ext.value.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in ext.value.get_values_for_type(x509.IPAddress)]
    return (*dns, *ips)
