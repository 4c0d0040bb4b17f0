"""Identity digests: what makes a peer or orderer restart when its certificates change.

Fabric reads its MSP and TLS files once, at start-up, so a renewed certificate reaches a running
node only when its pod restarts. :func:`identity_digests` hashes each node's certificates as the
PKI tree holds them; the chart puts the digest on the node's StatefulSet pod template
(annotation :data:`ANNOTATION`), so a renewal changes that pod template — and Kubernetes rolls
that node, and only that node. The digest does not depend on where pods read their keys from
(Kubernetes Secrets or Vault).

Only certificates are hashed (signing, TLS and both CA certificates — the non-key part of an
:class:`pki.bundle.IdentityBundle`), never keys: a certificate binds its public key, so a new
key always comes with a new certificate (``pki.renew --new-key``, ``pki.generate`` after a lost
key), and a key that does not match its certificate is refused by ``pki.load_bundles`` before
anything reaches the cluster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from baas.plan import Plan, pki_org_specs_from_plan

#: Pod template annotation carrying the digest (``charts/fabric/templates/_node.tpl``).
ANNOTATION = "baas.io/identity-digest"


def certificate_digest(parts: Sequence[tuple[str, bytes]]) -> str:
    """SHA-256 (hex) over labelled byte strings: each part is hashed with its label and its
    length, so moving bytes from one part to the next changes the digest. Pure."""
    digest = hashlib.sha256()
    for label, data in parts:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def identity_digests(plan: Plan, crypto_root: Path) -> dict[str, str]:
    """``{node fqdn: hex digest}`` of every peer and orderer of ``plan`` whose certificates are
    all on disk under ``crypto_root`` (the cryptogen layout of :mod:`pki.layout`).

    Reads certificate files only (never a key file) and writes nothing. Returns ``{}`` when the
    tree does not exist yet; a node with a missing certificate file is left out (its pods get no
    digest annotation until ``pki.generate`` has issued it).
    """
    from pki import files
    from pki.identities import identities_of
    from pki.layout import OrgPaths

    if not crypto_root.is_dir():
        return {}
    digests: dict[str, str] = {}
    for spec in pki_org_specs_from_plan(plan):
        paths = OrgPaths.of(crypto_root, spec)
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
