"""Crypto material for Fabric organisations, in cryptogen's folder layout.

The tree on disk is the source of truth: every operation reads it, changes only what is
missing or invalid, and reports what it did.

* :func:`generate` — ensure CAs and every identity's MSP/TLS material (idempotent).
* :func:`preview_generate` — what ``generate`` would issue, without writing anything.
* :func:`identity_digests` — a digest of each node's certificates (changes when they do).
* :func:`status` — every certificate with its expiry (flags those under 30 days).
* :func:`renew` — re-issue leaves (same key by default).
* :func:`revoke` — add an identity's certificates to its org's CRLs, published in ``crls/``.
* :func:`rotate_ca` / :func:`reissue_tls` / :func:`retire_ca` / :func:`rotations` — rotating an
  organisation's TLS CA with both CAs trusted meanwhile (:mod:`pki.rotation`).
* :func:`load_bundles` / :func:`load_bundle` — read identities back as
  :class:`pki.bundle.IdentityBundle`.
"""

from pki.bundle import IdentityBundle, SecretBytes
from pki.digests import identity_digests
from pki.inventory import status
from pki.issuing import generate, preview_generate
from pki.reader import load_bundle, load_bundles
from pki.renewal import renew
from pki.results import (
    CertStatus,
    Change,
    GeneratePreview,
    IdentityIssue,
    PKIResult,
    Progress,
    ProgressCallback,
)
from pki.revocation import revoke
from pki.rotation import OrgRotation, reissue_tls, retire_ca, rotate_ca, rotation_state, rotations
from pki.spec import NodeSpec, OrgSpec, PKIOptions

__all__ = [
    "CertStatus",
    "Change",
    "GeneratePreview",
    "IdentityBundle",
    "IdentityIssue",
    "NodeSpec",
    "OrgRotation",
    "OrgSpec",
    "PKIOptions",
    "PKIResult",
    "Progress",
    "ProgressCallback",
    "SecretBytes",
    "generate",
    "identity_digests",
    "load_bundle",
    "load_bundles",
    "preview_generate",
    "reissue_tls",
    "renew",
    "retire_ca",
    "revoke",
    "rotate_ca",
    "rotation_state",
    "rotations",
    "status",
]
