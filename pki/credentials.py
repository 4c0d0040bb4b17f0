"""One credential = a certificate and its private key on disk (MSP signcert+keystore, or TLS).

:func:`assess` says why a stored credential must be (re)issued, :func:`issue` issues one and
writes it (key first, so a crash leaves a key that the next run re-uses).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from cryptography import x509

from baas.errors import UsageError
from pki import files
from pki.certs import issued_by, pem, read_cert
from pki.identities import Identity
from pki.keys import PrivateKey, generate_key, load_private_key, private_key_pem, public_der
from pki.layout import AuthorityKind, IdentityPaths
from pki.orgstate import OrgContext
from pki.profiles import (
    common_name,
    node_ous,
    normalize_san,
    sans_of,
    signing_certificate,
    tls_certificate,
)
from pki.spec import PKIOptions

CredentialKind = Literal["sign", "tls"]
CREDENTIAL_KINDS: tuple[CredentialKind, CredentialKind] = ("sign", "tls")
ISSUER: dict[CredentialKind, AuthorityKind] = {"sign": "ca", "tls": "tlsca"}


@dataclass(frozen=True)
class Stored:
    """What is on disk for one credential; None for each part that is absent or unreadable."""

    cert: x509.Certificate | None
    key: PrivateKey | None

    def __repr__(self) -> str:
        return f"Stored(cert={self.cert is not None}, key={self.key is not None})"


def locate(paths: IdentityPaths, kind: CredentialKind) -> tuple[Path, Path]:
    """(certificate path, key path) of ``kind``."""
    if kind == "sign":
        return paths.sign_cert, paths.sign_key
    return paths.tls_cert, paths.tls_key


def read_stored(paths: IdentityPaths, kind: CredentialKind) -> Stored:
    """The credential on disk; an unreadable certificate or key counts as absent."""
    cert_path, key_path = locate(paths, kind)
    found = read_cert(cert_path)
    key_pem = files.read(key_path)
    key: PrivateKey | None = None
    if key_pem is not None:
        try:
            key = load_private_key(key_pem, source=str(key_path))
        except UsageError:  # unreadable key: treated as absent, a new one is issued
            key = None
    return Stored(found[0] if found else None, key)


def assess(
    stored: Stored, *, kind: CredentialKind, ident: Identity, ctx: OrgContext, now: datetime
) -> str | None:
    """None when the stored credential is current, else the reason it must be issued.

    While a rotation runs, a certificate of the retiring CA is current too: the rotation
    (:func:`pki.rotation.reissue_tls`, driven by ``baas up``) re-issues it when its holder can
    be restarted, not ``generate``."""
    cert, key = stored.cert, stored.key
    if cert is None:
        return "missing"
    if key is None:
        return "key missing"
    if public_der(key.public_key()) != public_der(cert.public_key()):
        return "key does not match certificate"
    ca_kind = ISSUER[kind]
    if not issued_by(cert, ctx.authorities[ca_kind].cert):
        retiring = ctx.retiring.get(ca_kind)
        if retiring is None or not issued_by(cert, retiring.cert):
            return "not issued by the current CA"
        # issued by the CA a rotation retires: current until the rotation re-issues it
    if cert.serial_number in ctx.revoked[ca_kind]:
        return "revoked"
    if cert.not_valid_after_utc <= now:
        return "expired"
    if common_name(cert) != ident.name:
        return "subject changed"
    if kind == "sign" and node_ous(cert) != [ident.role]:
        return "NodeOU changed"
    if kind == "tls" and set(sans_of(cert)) != {normalize_san(s) for s in ident.sans}:
        return "SANs changed"
    return None


def issue(
    *,
    kind: CredentialKind,
    ident: Identity,
    ctx: OrgContext,
    key: PrivateKey | None,
    options: PKIOptions,
    now: datetime,
) -> bool:
    """Issue ``kind`` for ``ident`` with ``key`` (a fresh key when None) and write it.

    Returns True when a new key was generated.
    """
    new_key = key is None
    algorithm = ident.key_algorithm(options, tls=kind == "tls")
    signing_key = generate_key(algorithm) if key is None else key
    public_key = signing_key.public_key()
    domain = ctx.spec.domain
    days = options.leaf_validity_days
    if kind == "sign":
        cert = signing_certificate(
            ca=ctx.authorities["ca"],
            name=ident.name,
            domain=domain,
            role=ident.role,
            public_key=public_key,
            now=now,
            days=days,
        )
    else:
        cert = tls_certificate(
            ca=ctx.authorities["tlsca"],
            name=ident.name,
            domain=domain,
            sans=ident.sans,
            public_key=public_key,
            now=now,
            days=days,
        )
    paths = ctx.paths.identity(ident)
    cert_path, key_path = locate(paths, kind)
    files.ensure_file(key_path, private_key_pem(signing_key).reveal(), private=True)
    files.ensure_file(cert_path, pem(cert))
    return new_key
