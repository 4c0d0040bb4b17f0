"""``renew``: re-issue leaf certificates before they expire (CAs are never renewed here)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from baas.errors import UsageError
from pki.certs import utcnow
from pki.credentials import CREDENTIAL_KINDS, ISSUER, CredentialKind, Stored, issue, read_stored
from pki.identities import Identity, find_identity, identities_of, validate
from pki.orgstate import OrgContext, open_org
from pki.results import Change, PKIResult
from pki.spec import OrgSpec, PKIOptions


def renew(
    root: Path,
    orgs: Sequence[OrgSpec],
    *,
    identity: str | None = None,
    expiring_within: int | None = None,
    new_key: bool = False,
    options: PKIOptions | None = None,
    now: datetime | None = None,
) -> PKIResult:
    """Re-issue leaves: both certificates of ``identity``, or every leaf certificate with fewer
    than ``expiring_within`` days left. Exactly one of the two must be given.

    The same key is kept unless ``new_key``; a revoked certificate always gets a new key.
    Raises :class:`UsageError` for a bad selector, an unknown identity, a missing CA, or an
    identity with nothing on disk (run ``generate`` first). Nothing to renew → empty result.
    """
    if (identity is None) == (expiring_within is None):
        raise UsageError("give exactly one of an identity name or an expiry window (days)")
    if expiring_within is not None and expiring_within < 0:
        raise UsageError("the expiry window must be zero or more days")
    options = options or PKIOptions()
    validate(orgs, options)
    now = now or utcnow()
    result = PKIResult(root)
    if identity is not None:
        org, ident = find_identity(orgs, identity)
        ctx, _ = open_org(root, org, options, now=now, create=False)
        for kind in CREDENTIAL_KINDS:
            stored = read_stored(ctx.paths.identity(ident), kind)
            change = _renew_one(ctx, ident, kind, stored, new_key=new_key, options=options, now=now)
            if change is None:
                raise UsageError(
                    f"{ident.name} has no {kind} key or certificate on disk",
                    hint="run `baas pki generate` to issue it",
                )
            result.changes.append(change)
        return result
    assert expiring_within is not None
    horizon = now + timedelta(days=expiring_within)
    for org in orgs:
        ctx, _ = open_org(root, org, options, now=now, create=False)
        for ident in identities_of(org):
            for kind in CREDENTIAL_KINDS:
                stored = read_stored(ctx.paths.identity(ident), kind)
                if stored.cert is None or stored.cert.not_valid_after_utc > horizon:
                    continue
                change = _renew_one(
                    ctx, ident, kind, stored, new_key=new_key, options=options, now=now
                )
                if change is not None:
                    result.changes.append(change)
    return result


def _renew_one(
    ctx: OrgContext,
    ident: Identity,
    kind: CredentialKind,
    stored: Stored,
    *,
    new_key: bool,
    options: PKIOptions,
    now: datetime,
) -> Change | None:
    """Renew one credential; None when neither its key nor its certificate exists."""
    if stored.key is None and stored.cert is None:
        return None
    revoked = stored.cert is not None and stored.cert.serial_number in ctx.revoked[ISSUER[kind]]
    key = None if new_key or revoked else stored.key
    fresh = issue(kind=kind, ident=ident, ctx=ctx, key=key, options=options, now=now)
    detail = "new key" if fresh else "same key"
    if revoked:
        detail += " (certificate was revoked)"
    elif stored.key is None:
        detail += " (key was missing)"
    return Change(ctx.spec.name, ident.name, kind, "renewed", detail)
