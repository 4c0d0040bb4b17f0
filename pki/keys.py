"""Private keys: generation, PEM encoding, loading, and the key identifiers Fabric computes.

Keys never appear in messages: load errors name the file, never its content.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from baas.errors import UsageError
from pki.bundle import SecretBytes
from pki.spec import KeyAlgorithm

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_CURVES: dict[str, type[ec.EllipticCurve]] = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384"}


def generate_key(algorithm: KeyAlgorithm) -> PrivateKey:
    """A fresh private key of ``algorithm`` (``P-256``, ``P-384`` or ``Ed25519``)."""
    if algorithm == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    try:
        curve = _CURVES[algorithm]
    except KeyError:
        raise UsageError(
            f"unsupported key algorithm {algorithm!r}", hint="use P-256, P-384 or Ed25519"
        ) from None
    return ec.generate_private_key(curve())


def algorithm_of(key: PrivateKey | PublicKey) -> KeyAlgorithm | None:
    """The algorithm name of ``key``, or None for a curve this package does not issue."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519"
    name = _CURVE_NAMES.get(key.curve.name)
    return "P-256" if name == "P-256" else "P-384" if name == "P-384" else None


def private_key_pem(key: PrivateKey) -> SecretBytes:
    """Unencrypted PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``), the form Fabric reads."""
    return SecretBytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def load_private_key(data: bytes, *, source: str) -> PrivateKey:
    """Parse a PEM private key (PKCS#8 or SEC1). ``source`` names the file in errors.

    Raises :class:`UsageError` when the data is not an unencrypted ECDSA/Ed25519 key; the
    message never quotes the data.
    """
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise UsageError(
            f"{source} is not a readable unencrypted private key",
            hint="restore the file from a backup, or delete it to have a new key issued",
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise UsageError(f"{source} holds a key type Fabric identities cannot use (not EC)")
    return key


def public_der(key: CertificatePublicKeyTypes) -> bytes:
    """SubjectPublicKeyInfo DER: equal bytes ⇔ same public key."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_identifier(key: PublicKey) -> bytes:
    """SHA-256 of the raw public key (uncompressed EC point, or Ed25519's 32 bytes).

    This is the SKI Fabric's BCCSP computes, and the one cryptogen writes into CA certificates.
    """
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raw = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return hashlib.sha256(raw).digest()


def signature_hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384 | None:
    """The digest a CA key signs with: SHA-256 (P-256), SHA-384 (P-384), none (Ed25519)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    return hashes.SHA384() if key.curve.name == "secp384r1" else hashes.SHA256()
