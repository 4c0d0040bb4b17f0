"""Reading certificates and CRLs back from the tree (the tree is the source of truth)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding

from baas.errors import UsageError
from pki import files


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.PEM)


def parse_cert(data: bytes, *, source: str) -> x509.Certificate:
    """Parse one PEM certificate; :class:`UsageError` naming ``source`` when it is not one."""
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise UsageError(
            f"{source} is not a readable PEM certificate",
            hint="restore it from a backup, or delete it to have it issued again",
        ) from None


def read_cert(path: Path) -> tuple[x509.Certificate, bytes] | None:
    """(certificate, PEM bytes) at ``path``; None when absent or unreadable."""
    data = files.read(path)
    if data is None:
        return None
    try:
        return x509.load_pem_x509_certificate(data), data
    except ValueError:
        return None


def read_crl(path: Path) -> x509.CertificateRevocationList | None:
    """The PEM CRL at ``path``, or None when absent or unreadable."""
    data = files.read(path)
    if data is None:
        return None
    try:
        return x509.load_pem_x509_crl(data)
    except ValueError:
        return None


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``issuer`` signed ``cert`` (names match and the signature verifies)."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def days_left(cert: x509.Certificate, now: datetime) -> int:
    """Whole days until NotAfter (negative once expired)."""
    return (cert.not_valid_after_utc - now).days


def utcnow() -> datetime:
    return datetime.now(UTC)
