"""Who signs: an MSP identity (certificate + private key) and a TLS client pair.

Fabric verifies every signature over ``SHA-256(message)`` whatever the curve, and refuses ECDSA
signatures whose ``s`` exceeds half the group order (fabric.md §1.4): :meth:`SigningIdentity.sign`
normalises ``s``. Ed25519 identities (Fabric 3.x) sign the raw message.

Private keys stay inside these objects: ``repr`` shows the MSP ID and the certificate's subject,
never key bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_protos.msp import identities_pb2

from baas.errors import UsageError
from pki.keys import PrivateKey, load_private_key
from pki.lowsig import CURVE_ORDERS


def _pem_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file())


@dataclass(frozen=True, repr=False)
class SigningIdentity:
    """An MSP identity that signs: ``msp_id``, its certificate (PEM) and its private key."""

    msp_id: str
    cert_pem: bytes
    _key: PrivateKey = field(compare=False)

    @classmethod
    def from_msp_dir(cls, msp_id: str, msp_dir: Path) -> SigningIdentity:
        """Load the first certificate of ``signcerts/`` and the key in ``keystore/`` (Fabric's
        local MSP layout). Raises :class:`UsageError` naming the folder when either is missing."""
        certs = _pem_files(msp_dir / "signcerts")
        keys = _pem_files(msp_dir / "keystore")
        if not certs or not keys:
            raise UsageError(
                f"{msp_dir} is not a local MSP: signcerts/ and keystore/ must each hold a file",
                hint="run `baas pki generate FILE` to issue the network's identities",
            )
        key = load_private_key(keys[0].read_bytes(), source=str(keys[0]))
        return cls(msp_id, certs[0].read_bytes(), key)

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    def serialize(self) -> bytes:
        """``msp.SerializedIdentity`` bytes: the creator field of every header Fabric reads."""
        return identities_pb2.SerializedIdentity(  # type: ignore[no-any-return]
            mspid=self.msp_id, id_bytes=self.cert_pem
        ).SerializeToString()

    def sign(self, message: bytes) -> bytes:
        """A signature Fabric accepts over ``message``: ECDSA over SHA-256 with low S (DER), or
        Ed25519 over the message itself."""
        key = self._key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(message)
        der = key.sign(message, ec.ECDSA(hashes.SHA256()))
        order = CURVE_ORDERS.get(key.curve.name)
        if order is None:
            return der
        r, s = decode_dss_signature(der)
        if s > order // 2:
            s = order - s
        return encode_dss_signature(r, s)

    def __repr__(self) -> str:
        try:
            subject = self.certificate.subject.rfc4514_string()
        except ValueError:
            subject = "?"
        return f"SigningIdentity({self.msp_id}, {subject})"


@dataclass(frozen=True, repr=False)
class TLSClient:
    """A TLS client certificate and key (PEM) for mutual TLS with peers and orderers."""

    cert_pem: bytes
    key_pem: bytes = field(compare=False)

    @classmethod
    def from_files(cls, cert: Path, key: Path) -> TLSClient:
        """Read the pair; raises :class:`UsageError` naming a missing file."""
        for path in (cert, key):
            if not path.is_file():
                raise UsageError(
                    f"TLS client file {path} is missing",
                    hint="run `baas pki generate FILE` to issue the network's identities",
                )
        return cls(cert.read_bytes(), key.read_bytes())

    def __repr__(self) -> str:
        return "TLSClient(<certificate>, <key hidden>)"
