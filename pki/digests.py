"""Identity digests: what tells a runtime that a peer or orderer must restart.

Fabric reads its MSP and TLS files once, at start-up, so a renewed certificate reaches a running
node only when the node restarts. :func:`identity_digests` hashes each node's certificates as the
tree holds them; a runtime compares the digest with the one the node was started with (the
Kubernetes runtime puts it on the node's pod template, so a renewal rolls that node, and only
that node). The digest does not depend on where nodes read their keys from.

Only certificates are hashed (signing, TLS and both CA certificates — the non-key part of an
:class:`pki.bundle.IdentityBundle`), never keys: a certificate binds its public key, so a new
key always comes with a new certificate (``pki.renew --new-key``, ``pki.generate`` after a lost
key), and a key that does not match its certificate is refused by ``pki.load_bundles`` before
anything reaches a node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from pki import files
from pki.identities import identities_of
from pki.layout import OrgPaths
from pki.spec import OrgSpec


def certificate_digest(parts: Sequence[tuple[str, bytes]]) -> str:
    """SHA-256 (hex) over labelled byte strings: each part is hashed with its label and its
    length, so moving bytes from one part to the next changes the digest. Pure."""
    digest = hashlib.sha256()
    for label, data in parts:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def identity_digests(root: Path, orgs: Sequence[OrgSpec]) -> dict[str, str]:
    """``{node identity name: hex digest}`` of every peer and orderer of ``orgs`` whose
    certificates are all on disk under ``root`` (the cryptogen layout of :mod:`pki.layout`).

    Reads certificate files only (never a key file) and writes nothing. Returns ``{}`` when the
    tree does not exist yet; a node with a missing certificate file is left out (it gets no
    digest until ``pki.generate`` has issued it). Admins and users are never included.
    """
    if not root.is_dir():
        return {}
    digests: dict[str, str] = {}
    for spec in orgs:
        paths = OrgPaths.of(root, spec)
        ca_cert_name = paths.authority("ca").cert_name
        for ident in identities_of(spec):
            if not ident.is_node:
                continue
            ipaths = paths.identity(ident)
            named = (
                ("signCert", ipaths.sign_cert),
                ("caCert", ipaths.msp / "cacerts" / ca_cert_name),
                ("tlsCert", ipaths.tls_cert),
                ("tlsCaCert", ipaths.tls_ca),
            )
            parts = [(label, files.read(path)) for label, path in named]
            present = [(label, data) for label, data in parts if data is not None]
            if len(present) == len(parts):
                digests[ident.name] = certificate_digest(present)
    return digests
