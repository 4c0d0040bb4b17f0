"""Check an MSP folder (and a TLS folder) against the rules Fabric applies (fabric.md §1.2-1.6).

Used by the tests and usable as a doctor: every function returns a list of human-readable
problems, empty when the folder is fine. Problems name files, never key material.
"""

from __future__ import annotations

import contextlib
import re
import stat
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import ExtendedKeyUsageOID

from baas.errors import UsageError
from pki.certs import issued_by
from pki.keys import load_private_key, public_der
from pki.msp import NODE_OUS
from pki.profiles import node_ous

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----\s*", re.S)


def _pem_certs(folder: Path, problems: list[str]) -> list[tuple[str, x509.Certificate, bytes]]:
    """(file name, certificate, bytes) for each PEM file in ``folder`` (sorted, like Fabric)."""
    found: list[tuple[str, x509.Certificate, bytes]] = []
    if not folder.is_dir():
        return found
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        data = path.read_bytes()
        try:
            found.append((path.name, x509.load_pem_x509_certificate(data), data))
        except ValueError:
            problems.append(f"{folder.name}/{path.name}: not a PEM certificate")
    return found


def _check_ca(where: str, cert: x509.Certificate, problems: list[str]) -> None:
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        problems.append(f"{where}: CA certificate does not have CA:TRUE")
    try:
        cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        problems.append(f"{where}: CA certificate has no Subject Key Identifier")
    _check_eku(where, cert, problems)


def _check_eku(where: str, cert: x509.Certificate, problems: list[str]) -> None:
    """Fabric verifies chains for serverAuth: an EKU without it breaks the identity."""
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if (
        ExtendedKeyUsageOID.SERVER_AUTH not in eku
        and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
    ):
        problems.append(f"{where}: ExtendedKeyUsage lacks serverAuth (Fabric rejects the chain)")


def _check_config(
    msp: Path, cacerts: list[tuple[str, x509.Certificate, bytes]], problems: list[str]
) -> list[str]:
    """Validate config.yaml; returns the configured NodeOU strings."""
    path = msp / "config.yaml"
    if not path.is_file():
        problems.append("config.yaml: missing (NodeOUs must be enabled)")
        return []
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        problems.append(f"config.yaml: not YAML ({exc.__class__.__name__})")
        return []
    node = doc.get("NodeOUs") if isinstance(doc, dict) else None
    if not isinstance(node, dict):
        problems.append("config.yaml: no NodeOUs mapping")
        return []
    if node.get("Enable") is not True:
        problems.append("config.yaml: NodeOUs.Enable is not true")
    unknown = set(node) - {"Enable", *NODE_OUS}
    if unknown:
        problems.append(
            f"config.yaml: unknown NodeOUs keys {sorted(unknown)} (keys are case-sensitive)"
        )
    ous: list[str] = []
    ca_bytes = {data for _, _, data in cacerts}
    for key, expected in NODE_OUS.items():
        entry = node.get(key)
        if not isinstance(entry, dict) or not entry.get("OrganizationalUnitIdentifier"):
            problems.append(f"config.yaml: {key}.OrganizationalUnitIdentifier missing")
            continue
        ou = str(entry["OrganizationalUnitIdentifier"])
        if ou != expected:
            problems.append(f"config.yaml: {key} is {ou!r}, expected {expected!r}")
        ous.append(ou)
        cert_rel = entry.get("Certificate")
        if cert_rel:
            target = msp / str(cert_rel)
            if not target.is_file() or target.read_bytes() not in ca_bytes:
                problems.append(f"config.yaml: {key}.Certificate {cert_rel} is not one of cacerts/")
    return ous


def _canonical_signature(cert: x509.Certificate) -> bool:
    if not isinstance(cert.public_key(), ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        return False
    sig = cert.signature
    if cert.signature_algorithm_oid.dotted_string.startswith("1.2.840.10045.4"):  # ecdsa-with-*
        try:
            r, s = decode_dss_signature(sig)
        except ValueError:
            return False
        return encode_dss_signature(r, s) == sig
    return True


def _check_signcert(
    msp: Path,
    cacerts: list[tuple[str, x509.Certificate, bytes]],
    ous: list[str],
    problems: list[str],
) -> x509.Certificate | None:
    certs = _pem_certs(msp / "signcerts", problems)
    if not certs:
        problems.append("signcerts/: missing or empty")
        return None
    name, cert, data = certs[0]
    where = f"signcerts/{name}"
    blocks = _PEM_BLOCK.findall(data)
    if blocks != [b"CERTIFICATE"] or _PEM_BLOCK.sub(b"", data).strip():
        problems.append(f"{where}: must hold exactly one CERTIFICATE PEM block and nothing else")
    try:
        if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            problems.append(f"{where}: a CA certificate cannot be an identity")
    except x509.ExtensionNotFound:
        pass
    have = [ou for ou in node_ous(cert) if ou in ous]
    if len(have) != 1:
        problems.append(f"{where}: must carry exactly one NodeOU of {ous}, has {have}")
    _check_eku(where, cert, problems)
    issuers = [c for _, c, _ in cacerts if issued_by(cert, c)]
    if not issuers:
        problems.append(f"{where}: not issued by any certificate in cacerts/")
    else:
        try:
            aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
            ski = issuers[0].extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            if aki.key_identifier != ski.digest:
                problems.append(f"{where}: Authority Key Identifier does not match the CA's SKI")
        except x509.ExtensionNotFound:
            problems.append(f"{where}: no Authority Key Identifier")
    if not _canonical_signature(cert):
        problems.append(f"{where}: signature is not canonical DER ECDSA/Ed25519")
    if cert.serial_number.bit_length() < 64:
        problems.append(f"{where}: serial number is too short to be random")
    return cert


def check_private_file(path: Path, problems: list[str], where: str) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        problems.append(f"{where}: mode {mode:o}, must be 0600")


def _check_keystore(msp: Path, cert: x509.Certificate, problems: list[str]) -> None:
    keystore = msp / "keystore"
    keys = sorted(p for p in keystore.iterdir() if p.is_file()) if keystore.is_dir() else []
    if not keys:
        problems.append("keystore/: missing or empty")
        return
    if stat.S_IMODE(keystore.stat().st_mode) & 0o077:
        problems.append("keystore/: folder must be 0700")
    wanted = public_der(cert.public_key())
    matched = False
    for path in keys:
        check_private_file(path, problems, f"keystore/{path.name}")
        try:
            key = load_private_key(path.read_bytes(), source=path.name)
        except UsageError:
            problems.append(f"keystore/{path.name}: not a readable unencrypted private key")
            continue
        matched = matched or public_der(key.public_key()) == wanted
    if not matched:
        problems.append("keystore/: no key matches the signcert's public key")


def _check_crls(msp: Path, roots: list[x509.Certificate], problems: list[str]) -> None:
    folder = msp / "crls"
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        where = f"crls/{path.name}"
        try:
            crl = x509.load_pem_x509_crl(path.read_bytes())
        except ValueError:
            problems.append(f"{where}: not a PEM CRL")
            continue
        try:
            aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        except x509.ExtensionNotFound:
            problems.append(f"{where}: no Authority Key Identifier (Fabric rejects every identity)")
            continue
        for ca in roots:
            ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            key = ca.public_key()
            if ski == aki.key_identifier and isinstance(
                key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
            ):
                if not crl.is_signature_valid(key):
                    problems.append(f"{where}: signature does not verify with its CA")
                break
        else:
            problems.append(f"{where}: issued by none of cacerts/ or tlscacerts/")


def check_msp(msp: Path) -> list[str]:
    """Problems Fabric would have loading ``msp`` (empty list when it is fine).

    A folder with ``signcerts/`` is checked as a local (signing) MSP, otherwise as a verifying
    MSP (configtx ``MSPDir``).
    """
    problems: list[str] = []
    cacerts = _pem_certs(msp / "cacerts", problems)
    if not cacerts:
        problems.append('cacerts/: missing or empty ("no ca certificate found in directory")')
    tlscacerts = _pem_certs(msp / "tlscacerts", problems)
    for name, cert, _ in cacerts:
        _check_ca(f"cacerts/{name}", cert, problems)
    for name, cert, _ in tlscacerts:
        _check_ca(f"tlscacerts/{name}", cert, problems)
    ous = _check_config(msp, cacerts, problems)
    if (msp / "signcerts").exists() or (msp / "keystore").exists():
        signcert = _check_signcert(msp, cacerts, ous, problems)
        if signcert is not None:
            _check_keystore(msp, signcert, problems)
    with contextlib.suppress(x509.ExtensionNotFound):  # a CA without SKI is reported above
        _check_crls(msp, [c for _, c, _ in cacerts + tlscacerts], problems)
    return problems


def check_tls(tls: Path, *, server: bool) -> list[str]:
    """Problems with a node's (``server``) or user's TLS folder: files, chain, EKU, key, SANs.
    ``ca.crt`` may be a bundle (both TLS CAs during a rotation): the certificate must be
    issued by one of them."""
    problems: list[str] = []
    cert_name, key_name = ("server.crt", "server.key") if server else ("client.crt", "client.key")
    try:
        cas = x509.load_pem_x509_certificates((tls / "ca.crt").read_bytes())
        cert = x509.load_pem_x509_certificate((tls / cert_name).read_bytes())
        key = load_private_key((tls / key_name).read_bytes(), source=key_name)
    except (OSError, ValueError) as exc:
        return [f"{tls.name}/: unreadable material ({exc.__class__.__name__})"]
    except UsageError:
        return [f"{tls.name}/{key_name}: not a readable private key"]
    for ca in cas:  # a bundle of two while a TLS CA rotation runs
        _check_ca("ca.crt", ca, problems)
    if not any(issued_by(cert, ca) for ca in cas):
        problems.append(f"{cert_name}: not issued by ca.crt")
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        wanted = {"serverAuth": ExtendedKeyUsageOID.SERVER_AUTH}
        wanted["clientAuth"] = ExtendedKeyUsageOID.CLIENT_AUTH
        for label, oid in wanted.items():
            if oid not in eku:
                problems.append(f"{cert_name}: ExtendedKeyUsage lacks {label}")
    except x509.ExtensionNotFound:
        problems.append(f"{cert_name}: no ExtendedKeyUsage (serverAuth+clientAuth expected)")
    if public_der(key.public_key()) != public_der(cert.public_key()):
        problems.append(f"{key_name}: does not match {cert_name}")
    check_private_file(tls / key_name, problems, key_name)
    if server:
        try:
            cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            problems.append(f"{cert_name}: server certificate without SubjectAlternativeName")
    return problems
