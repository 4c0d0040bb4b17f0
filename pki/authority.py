"""An organisation's two CAs (signing, TLS): read back from the tree, created only when absent."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509

from baas.errors import UsageError
from pki import files
from pki.certs import parse_cert, pem
from pki.identities import tls_key_algorithm
from pki.keys import generate_key, load_private_key, private_key_pem, public_der
from pki.layout import AuthorityPaths
from pki.profiles import Authority, ca_certificate
from pki.spec import PKIOptions


def load_authority(paths: AuthorityPaths) -> Authority | None:
    """The CA stored in ``paths.dir``; None when neither its certificate nor key exists.

    Raises :class:`UsageError` when only one of the two exists, when either is unreadable, or
    when they do not belong together: the tree is damaged and issuing would break trust.
    """
    cert_pem = files.read(paths.cert)
    key_pem = files.read(paths.key)
    if cert_pem is None and key_pem is None:
        return None
    if cert_pem is None or key_pem is None:
        missing = paths.cert if cert_pem is None else paths.key
        raise UsageError(
            f"the {paths.name} CA is incomplete: {missing} is missing",
            hint=f"restore it from a backup, or delete {paths.dir} to create a new CA "
            "(every identity of the organisation is then re-issued)",
        )
    cert = parse_cert(cert_pem, source=str(paths.cert))
    key = load_private_key(key_pem, source=str(paths.key))
    if public_der(key.public_key()) != public_der(cert.public_key()):
        raise UsageError(
            f"{paths.key} does not belong to {paths.cert}",
            hint="restore the matching pair from a backup",
        )
    try:
        cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        raise UsageError(
            f"{paths.cert} has no Subject Key Identifier; Fabric rejects such CAs"
        ) from None
    return Authority(cert, cert_pem, key)


def ensure_authority(
    paths: AuthorityPaths, *, domain: str, options: PKIOptions, now: datetime
) -> tuple[Authority, bool]:
    """(the CA, True when it was created now). An existing CA is kept byte for byte, whatever
    ``options`` say now; a new TLS CA never uses Ed25519 (see :func:`tls_key_algorithm`)."""
    existing = load_authority(paths)
    if existing is not None:
        return existing, False
    algorithm = tls_key_algorithm(options) if paths.kind == "tlsca" else options.key_algorithm
    key = generate_key(algorithm)
    cert = ca_certificate(
        common_name=paths.name, domain=domain, key=key, now=now, days=options.ca_validity_days
    )
    cert_pem = pem(cert)
    files.ensure_dir(paths.dir, private=True)
    files.ensure_file(paths.key, private_key_pem(key).reveal(), private=True)
    files.ensure_file(paths.cert, cert_pem)
    return Authority(cert, cert_pem, key), True
