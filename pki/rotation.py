"""Rotating an organisation's TLS CA without downtime: the PKI half.

A rotation has three states, all read from the tree (the tree is the source of truth, no
separate state file):

1. **Started** — :func:`rotate_ca` creates the next TLS CA and keeps the previous one as
   *retiring* in ``tlsca/retiring/``. From then on both are trusted: the organisation's MSP
   folders hold both in ``tlscacerts/`` (so the channel config made from them does), and every
   identity's ``tls/ca.crt`` is a bundle of both (nodes read it as their TLS roots). Leaves the
   retiring CA issued stay current for :func:`pki.generate`; new identities get certificates
   of the next CA at once.
2. **Rolling** — :func:`reissue_tls` re-issues one identity's TLS certificate (new key) from
   the next CA; the runtime does it node by node, each restarted before the next
   (:mod:`baas.network.tlsrotation`). :func:`rotation_state` says who still holds a
   certificate of the retiring CA.
3. **Retired** — :func:`retire_ca`, only once nobody does: the retiring CA is deleted (its key
   too), then every MSP and ``tls/ca.crt`` trusts the next CA alone.

Crash safety: :func:`rotate_ca` writes the next CA into ``tlsca/incoming/`` first and
promotes it through :func:`pki.orgstate.finish_promotion`, which any later ``generate`` or
``rotate-ca`` completes after an interruption; :func:`retire_ca` deletes ``retiring/`` before
it rewrites the MSP folders, and ``generate`` rewrites them from the tree just the same.

Only the TLS CA rotates here. The signing (enrollment) CA could rotate with the same states
(``cacerts/`` holding both, NodeOU ``config.yaml`` naming the new one, identities re-issued),
but every signing identity then changes, so :func:`rotate_ca` refuses ``kind="ca"``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

from baas.errors import UsageError
from pki import files
from pki.certs import issued_by, pem, utcnow
from pki.credentials import issue, read_stored
from pki.identities import find_identity, identities_of, tls_key_algorithm, validate
from pki.keys import generate_key, private_key_pem
from pki.layout import AuthorityKind, OrgPaths
from pki.orgstate import OrgContext, finish_promotion, open_org
from pki.profiles import ca_certificate
from pki.results import Change, PKIResult
from pki.spec import OrgSpec, PKIOptions


@dataclass(frozen=True)
class OrgRotation:
    """A TLS CA rotation in progress in one organisation (read from the tree).

    ``current_pem`` is the next CA's certificate (the one that issues now), ``retiring_pem``
    the previous one's. ``pending`` names the identities (nodes first, then the admin and
    users, in spec order) whose TLS certificate is not yet issued by the next CA; ``nodes``
    every peer and orderer of the organisation.
    """

    org: str
    msp_id: str
    current_pem: bytes
    retiring_pem: bytes
    pending: tuple[str, ...]
    nodes: tuple[str, ...]

    @property
    def ready_to_retire(self) -> bool:
        """True when every identity holds a certificate of the next CA."""
        return not self.pending


def _org(orgs: Sequence[OrgSpec], name: str) -> OrgSpec:
    for org in orgs:
        if org.name == name:
            return org
    raise UsageError(
        f"no organisation named {name!r}",
        hint="choose one of: " + ", ".join(o.name for o in orgs),
    )


def _tls_pending(ctx: OrgContext) -> tuple[str, ...]:
    current = ctx.authorities["tlsca"].cert
    pending = []
    for ident in identities_of(ctx.spec):
        stored = read_stored(ctx.paths.identity(ident), "tls")
        if stored.cert is None or not issued_by(stored.cert, current):
            pending.append(ident.name)
    return tuple(pending)


def rotation_state(root: Path, org: OrgSpec) -> OrgRotation | None:
    """The TLS CA rotation running in ``org`` under ``root``, or None when none runs (or the
    organisation has no tree yet). Reads only; raises :class:`UsageError` for a damaged CA or
    an interrupted :func:`rotate_ca` (run it again)."""
    paths = OrgPaths.of(root, org)
    if not paths.retiring("tlsca").dir.exists() and not paths.incoming("tlsca").dir.exists():
        return None
    ctx, _ = open_org(root, org, PKIOptions(), now=utcnow(), create=False)
    retiring = ctx.retiring.get("tlsca")
    if retiring is None:
        return None
    return OrgRotation(
        org=org.name,
        msp_id=org.msp_id,
        current_pem=ctx.authorities["tlsca"].cert_pem,
        retiring_pem=retiring.cert_pem,
        pending=_tls_pending(ctx),
        nodes=tuple(i.name for i in identities_of(org) if i.is_node),
    )


def rotations(root: Path, orgs: Sequence[OrgSpec]) -> list[OrgRotation]:
    """:func:`rotation_state` of every organisation that has a rotation running (spec order)."""
    found = [rotation_state(root, org) for org in orgs]
    return [r for r in found if r is not None]


def _publish_trust(ctx: OrgContext) -> list[Change]:
    """Write the shared MSP files into every MSP folder of the organisation found on disk and
    the TLS trust bundle into every identity's ``tls/ca.crt`` (those that exist)."""
    written = sum(ctx.shared.ensure(msp) for msp in ctx.paths.all_msps())
    for ident in identities_of(ctx.spec):
        tls = ctx.paths.identity(ident).tls_ca
        if tls.parent.is_dir():
            written += files.ensure_file(tls, ctx.tls_trust)
    if not written:
        return []
    return [Change(ctx.spec.name, "msp", "msp", "updated", f"{written} files: TLS trust")]


def rotate_ca(
    root: Path,
    orgs: Sequence[OrgSpec],
    org_name: str,
    *,
    kind: AuthorityKind = "tlsca",
    options: PKIOptions | None = None,
    now: datetime | None = None,
) -> PKIResult:
    """Start rotating organisation ``org_name``'s TLS CA: a next CA issues from now on, the
    current one retires but stays trusted (see the module docstring).

    Idempotent while a rotation runs: a second call changes nothing (``kept``, "already
    rotating"); once the rotation is retired, a call starts the next one. Re-running after an
    interruption finishes the promotion. Raises :class:`UsageError` for an unknown
    organisation, ``kind="ca"`` (the signing CA does not rotate here), or a missing tree.
    """
    options = options or PKIOptions()
    validate(orgs, options)
    moment = now or utcnow()
    org = _org(orgs, org_name)
    if kind != "tlsca":
        raise UsageError(
            "rotating an organisation's signing (enrollment) CA is not supported",
            hint="rotate its TLS CA with --tls; renew signing certificates with `baas pki renew`",
        )
    paths = OrgPaths.of(root, org)
    if not paths.authority("tlsca").cert.exists() and not paths.incoming("tlsca").dir.exists():
        raise UsageError(
            f"organisation {org.name!r} has no TLS CA under {paths.dir}",
            hint="run `baas pki generate` first",
        )
    result = PKIResult(root)
    ctx, opened = open_org(root, org, options, now=moment, create=True)
    promoted = [c for c in opened if c.action != "kept"]  # an interrupted run finished
    result.changes += promoted
    current = paths.authority("tlsca")
    if "tlsca" in ctx.retiring and not promoted:
        detail = "already rotating; `baas up` finishes it"
        result.changes.append(Change(org.name, current.name, "tlsca", "kept", detail))
        return result
    if "tlsca" not in ctx.retiring:
        incoming = paths.incoming("tlsca")
        key = generate_key(tls_key_algorithm(options))
        cert = ca_certificate(
            common_name=current.name,
            domain=org.domain,
            key=key,
            now=moment,
            days=options.ca_validity_days,
        )
        files.ensure_dir(incoming.dir, private=True)
        files.ensure_file(incoming.key, private_key_pem(key).reveal(), private=True)
        files.ensure_file(incoming.cert, pem(cert))
        result.changes += finish_promotion(org, paths, "tlsca")
        ctx, _ = open_org(root, org, options, now=moment, create=True)
    result.changes += _publish_trust(ctx)
    return result


def reissue_tls(
    root: Path,
    orgs: Sequence[OrgSpec],
    name: str,
    *,
    options: PKIOptions | None = None,
    now: datetime | None = None,
) -> Change:
    """Re-issue identity ``name``'s TLS certificate from its organisation's current TLS CA,
    with a new key; ``kept`` when it already holds one of that CA. The caller restarts the
    node afterwards (it reads certificates at start-up). Raises :class:`UsageError` for an
    unknown identity or a missing tree."""
    options = options or PKIOptions()
    moment = now or utcnow()
    org, ident = find_identity(orgs, name)
    ctx, _ = open_org(root, org, options, now=moment, create=False)
    stored = read_stored(ctx.paths.identity(ident), "tls")
    if stored.cert is not None and issued_by(stored.cert, ctx.authorities["tlsca"].cert):
        return Change(org.name, ident.name, "tls", "kept", "issued by the current TLS CA")
    issue(kind="tls", ident=ident, ctx=ctx, key=None, options=options, now=moment)
    files.ensure_file(ctx.paths.identity(ident).tls_ca, ctx.tls_trust)
    return Change(org.name, ident.name, "tls", "reissued", "from the new TLS CA; new key")


def retire_ca(
    root: Path,
    orgs: Sequence[OrgSpec],
    org_name: str,
    *,
    options: PKIOptions | None = None,
) -> PKIResult:
    """End organisation ``org_name``'s TLS CA rotation: delete the retiring CA (certificate
    and key) and make every MSP folder and ``tls/ca.crt`` trust the current CA alone.

    Empty result when no rotation runs (idempotent). Raises :class:`UsageError`, changing
    nothing, while an identity still holds a TLS certificate of the retiring CA.
    """
    options = options or PKIOptions()
    org = _org(orgs, org_name)
    state = rotation_state(root, org)
    result = PKIResult(root)
    if state is None:
        return result
    if state.pending:
        shown = ", ".join(state.pending[:4]) + (" …" if len(state.pending) > 4 else "")
        raise UsageError(
            f"organisation {org.name!r} cannot retire its previous TLS CA: {shown} still "
            "hold its certificates",
            hint="run `baas up` to re-issue them and restart the nodes first",
        )
    paths = OrgPaths.of(root, org)
    old = paths.retiring("tlsca")
    shutil.rmtree(old.dir)
    result.changes.append(Change(org.name, f"{old.name} (retiring)", "tlsca", "retired"))
    ctx, _ = open_org(root, org, options, now=utcnow(), create=True)
    result.changes += _publish_trust(ctx)
    return result


def served_by(cert_pem: bytes, ca_pem: bytes) -> bool:
    """True when the PEM certificate ``cert_pem`` was issued by the CA in ``ca_pem``. Pure."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        ca = x509.load_pem_x509_certificate(ca_pem)
    except ValueError:
        return False
    return issued_by(cert, ca)
