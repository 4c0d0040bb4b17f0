"""Certificate revocation lists, in the form Fabric's MSP matches them.

Fabric picks a CRL by its Authority Key Identifier (= the issuing CA's SKI), checks the serial,
then the CRL signature (fabric.md §1.4). Every CRL written here therefore carries AKI and a CRL
number; ECDSA signatures are low-S.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding

from pki import lowsig
from pki.keys import signature_hash
from pki.profiles import BACKDATE, Authority


def entries(
    crl: x509.CertificateRevocationList | None, ca_cert: x509.Certificate
) -> dict[int, datetime]:
    """serial → revocation date of a CRL signed by ``ca_cert``; empty when absent or foreign."""
    if crl is None or crl.issuer != ca_cert.subject:
        return {}
    public_key = ca_cert.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        return {}
    if not crl.is_signature_valid(public_key):
        return {}
    return {r.serial_number: r.revocation_date_utc for r in crl}


def crl_number(crl: x509.CertificateRevocationList | None) -> int:
    """The CRL's number, 0 when absent."""
    if crl is None:
        return 0
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0


def build_crl(
    ca: Authority,
    revoked: Iterable[tuple[int, datetime]],
    *,
    number: int,
    now: datetime,
    days: int,
) -> bytes:
    """A PEM CRL signed by ``ca`` listing ``revoked`` (serial, date), valid ``days`` days."""
    start = now.replace(microsecond=0) - BACKDATE
    aki = x509.AuthorityKeyIdentifier(
        key_identifier=ca.ski, authority_cert_issuer=None, authority_cert_serial_number=None
    )
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(start)
        .next_update(start + timedelta(days=days))
        .add_extension(aki, critical=False)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for serial, when in sorted(revoked):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    crl = builder.sign(ca.key, signature_hash(ca.key))
    curve = ca.key.curve.name if isinstance(ca.key, ec.EllipticCurvePrivateKey) else None
    der = lowsig.normalize_signed(crl.public_bytes(Encoding.DER), curve)
    return x509.load_der_x509_crl(der).public_bytes(Encoding.PEM)
