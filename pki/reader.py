"""``load_bundles``: read an organisation's identities back from the tree as IdentityBundles."""

from __future__ import annotations

from pathlib import Path

from baas.errors import UsageError
from pki import files
from pki.bundle import IdentityBundle, SecretBytes
from pki.certs import parse_cert
from pki.identities import Identity, identities_of
from pki.keys import load_private_key, public_der
from pki.layout import OrgPaths
from pki.spec import OrgSpec


def load_bundles(root: Path, org: OrgSpec) -> list[IdentityBundle]:
    """One bundle per node, the admin and each user of ``org`` (spec order), read from disk.

    CA certificates come from the identity's own folders (``msp/cacerts``, ``tls/ca.crt``).
    Raises :class:`UsageError` naming the first missing or unreadable file, or a key that does
    not match its certificate (never quoting key material); run ``generate`` to repair.
    """
    paths = OrgPaths.of(root, org)
    ca_cert_name = paths.authority("ca").cert_name
    return [read_identity(paths, org, ident, ca_cert_name) for ident in identities_of(org)]


def load_bundle(root: Path, org: OrgSpec, name: str) -> IdentityBundle:
    """The one identity of ``org`` called ``name`` (``peer0.org1.example.com``,
    ``Admin@org1.example.com``). Raises :class:`UsageError` when ``org`` has no such identity or
    its files are missing or damaged (as :func:`load_bundles`)."""
    paths = OrgPaths.of(root, org)
    for ident in identities_of(org):
        if ident.name == name:
            return read_identity(paths, org, ident)
    raise UsageError(
        f"organisation {org.name!r} has no identity {name!r}",
        hint="check the name against `baas plan FILE`",
    )


def _need(path: Path) -> bytes:
    data = files.read(path)
    if data is None:
        raise UsageError(f"{path} is missing", hint="run `baas pki generate` to issue it")
    return data


def _pair(cert_path: Path, key_path: Path) -> tuple[bytes, SecretBytes]:
    cert_pem = _need(cert_path)
    key = SecretBytes(_need(key_path))
    cert = parse_cert(cert_pem, source=str(cert_path))
    private = load_private_key(key.reveal(), source=str(key_path))
    if public_der(private.public_key()) != public_der(cert.public_key()):
        raise UsageError(
            f"{key_path} does not belong to {cert_path}",
            hint="run `baas pki generate` to re-issue the certificate",
        )
    return cert_pem, key


def read_identity(
    paths: OrgPaths, org: OrgSpec, ident: Identity, ca_cert_name: str | None = None
) -> IdentityBundle:
    """Read one identity through already-resolved ``paths`` (``ca_cert_name`` defaults to the
    org CA's file name)."""
    ca_cert_name = ca_cert_name or paths.authority("ca").cert_name
    ipaths = paths.identity(ident)
    sign_cert, sign_key = _pair(ipaths.sign_cert, ipaths.sign_key)
    tls_cert, tls_key = _pair(ipaths.tls_cert, ipaths.tls_key)
    ca_cert = _need(ipaths.msp / "cacerts" / ca_cert_name)
    parse_cert(ca_cert, source=str(ipaths.msp / "cacerts" / ca_cert_name))
    tls_ca = _need(ipaths.tls_ca)
    parse_cert(tls_ca, source=str(ipaths.tls_ca))
    return IdentityBundle(
        org=org.name,
        msp_id=org.msp_id,
        name=ident.name,
        role=ident.role,
        sign_cert=sign_cert,
        sign_key=sign_key,
        ca_cert=ca_cert,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_ca_cert=tls_ca,
    )
