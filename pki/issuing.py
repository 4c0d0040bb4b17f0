"""``generate``: make the tree hold valid material for every organisation and identity.

An ensure: CAs and current credentials are kept byte for byte; only what is missing or no
longer valid (expired, revoked, not issued by the org's CA, key lost, subject or SANs changed)
is issued. A credential whose key is still readable keeps that key, except after revocation.

``preview_generate`` is its dry run: the same checks, nothing written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from baas.errors import UsageError
from pki import files
from pki.bundle import IdentityBundle
from pki.certs import utcnow
from pki.credentials import CREDENTIAL_KINDS, assess, issue, read_stored
from pki.identities import Identity, identities_of, validate
from pki.layout import OrgPaths
from pki.orgstate import KINDS, OrgContext, open_org
from pki.reader import read_identity
from pki.results import (
    Action,
    Change,
    GeneratePreview,
    IdentityIssue,
    PKIResult,
    Progress,
    ProgressCallback,
)
from pki.spec import OrgSpec, PKIOptions


def generate(
    root: Path,
    orgs: Sequence[OrgSpec],
    options: PKIOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
    now: datetime | None = None,
) -> PKIResult:
    """Ensure crypto material for ``orgs`` under ``root`` (cryptogen layout).

    Returns every change (``created``/``reissued``/``updated``) and every ``kept`` item, in
    spec order. ``progress`` is called after each CA pair and each identity. ``now`` (UTC) is
    for tests. Raises :class:`baas.errors.UsageError` for unsafe names or a damaged CA;
    organisations finished before the error keep their material.

    Sequential on purpose: the cost is file and folder creation in the kernel (crypto is ~20%),
    and neither threads nor processes overlapped it on the 2-core machines measured.
    """
    options = options or PKIOptions()
    validate(orgs, options)
    moment = now or utcnow()
    total = sum(1 + len(identities_of(org)) for org in orgs)
    done = 0

    def step(org: OrgSpec, holder: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(Progress(done, total, org.name, holder))

    result = PKIResult(root)
    for org in orgs:
        result.changes.extend(ensure_org(root, org, options=options, now=moment, step=step))
    return result


def ensure_org(
    root: Path,
    org: OrgSpec,
    *,
    options: PKIOptions,
    now: datetime,
    step: Callable[[OrgSpec, str], None],
) -> list[Change]:
    """Ensure one organisation: its CAs, verifying MSP and every identity."""
    ctx, changes = open_org(root, org, options, now=now, create=True)
    fresh = not ctx.paths.msp.exists()
    written = ctx.shared.ensure(ctx.paths.msp)
    if written:
        action: Action = "created" if fresh else "updated"
        changes.append(Change(org.name, "msp", "msp", action, f"{written} files"))
    step(org, f"ca.{org.domain}")
    for ident in identities_of(org):
        changes.extend(ensure_identity(ctx, ident, options=options, now=now))
        step(org, ident.name)
    return changes


def ensure_identity(
    ctx: OrgContext, ident: Identity, *, options: PKIOptions, now: datetime
) -> list[Change]:
    """Ensure one identity's MSP and TLS folders; one change per credential (+ MSP files)."""
    org = ctx.spec.name
    paths = ctx.paths.identity(ident)
    changes: list[Change] = []
    for kind in CREDENTIAL_KINDS:
        stored = read_stored(paths, kind)
        reason = assess(stored, kind=kind, ident=ident, ctx=ctx, now=now)
        if reason is None:
            changes.append(Change(org, ident.name, kind, "kept"))
            continue
        reuse = stored.key if reason != "revoked" else None
        new_key = issue(kind=kind, ident=ident, ctx=ctx, key=reuse, options=options, now=now)
        fresh = stored.cert is None and stored.key is None
        detail = reason if fresh else f"{reason}; {'new' if new_key else 'same'} key"
        changes.append(Change(org, ident.name, kind, "created" if fresh else "reissued", detail))
    written = ctx.shared.ensure(paths.msp)
    written += files.ensure_file(paths.tls_ca, ctx.tls_trust)
    issued = any(c.action != "kept" for c in changes)
    if written and not issued:  # shared files of a freshly issued identity are no news
        changes.append(Change(org, ident.name, "msp", "updated", f"{written} files"))
    return changes


# --------------------------------------------------------------------------- dry run


def _missing_authority(root: Path, org: OrgSpec) -> str | None:
    """``None`` when both CAs of ``org`` have files on disk, else the first missing kind."""
    paths = OrgPaths.of(root, org)
    for kind in KINDS:
        ca = paths.authority(kind)
        if not ca.cert.exists() and not ca.key.exists():
            return kind
    return None


def _issue_reasons(ctx: OrgContext, ident: Identity, now: datetime) -> list[str]:
    """Why ``generate`` would issue ``ident``'s credentials (``sign missing``...); empty when
    both are current. Reads only."""
    paths = ctx.paths.identity(ident)
    reasons = []
    for kind in CREDENTIAL_KINDS:
        why = assess(read_stored(paths, kind), kind=kind, ident=ident, ctx=ctx, now=now)
        if why is not None:
            reasons.append(f"{kind} {why}")
    return reasons


def preview_generate(
    root: Path, orgs: Sequence[OrgSpec], *, now: datetime | None = None
) -> GeneratePreview:
    """Which identities :func:`generate` would issue under ``root``, and the bundles of the
    others; writes nothing (not even a missing folder).

    Uses ``generate``'s own checks (missing, key lost, not issued by the current CA, revoked,
    expired, subject/NodeOU/SANs changed): an organisation without CAs (a missing tree
    included) has all its identities issued (``no ca yet``); an identity whose credentials are
    current but whose MSP files are incomplete counts as an issue (``files missing``). Issues
    and bundles follow spec order. Raises :class:`UsageError` for a damaged CA, as ``generate``
    does. ``now`` (UTC) is for tests.
    """
    moment = now or utcnow()
    issues: list[IdentityIssue] = []
    bundles: dict[tuple[str, str], IdentityBundle] = {}
    for org in orgs:
        missing_ca = _missing_authority(root, org)
        if missing_ca is not None:
            reason = f"no {missing_ca} yet"
            issues += [IdentityIssue(org.name, i.name, reason) for i in identities_of(org)]
            continue
        # options are read only when CAs are created, which create=False never does
        ctx, _ = open_org(root, org, PKIOptions(), now=moment, create=False)
        ca_cert_name = ctx.paths.authority("ca").cert_name
        for ident in identities_of(org):
            reasons = _issue_reasons(ctx, ident, moment)
            if not reasons:
                try:
                    bundles[(org.name, ident.name)] = read_identity(
                        ctx.paths, org, ident, ca_cert_name
                    )
                except UsageError:
                    reasons = ["files missing"]
            if reasons:
                issues.append(IdentityIssue(org.name, ident.name, ", ".join(reasons)))
    return GeneratePreview(issues=tuple(issues), bundles=bundles)
