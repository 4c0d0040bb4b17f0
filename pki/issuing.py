"""``generate``: make the tree hold valid material for every organisation and identity.

An ensure: CAs and current credentials are kept byte for byte; only what is missing or no
longer valid (expired, revoked, not issued by the org's CA, key lost, subject or SANs changed)
is issued. A credential whose key is still readable keeps that key, except after revocation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from pki import files
from pki.certs import utcnow
from pki.credentials import CREDENTIAL_KINDS, assess, issue, read_stored
from pki.identities import Identity, identities_of, validate
from pki.orgstate import OrgContext, open_org
from pki.results import Action, Change, PKIResult, Progress, ProgressCallback
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
    written += files.ensure_file(paths.tls_ca, ctx.authorities["tlsca"].cert_pem)
    issued = any(c.action != "kept" for c in changes)
    if written and not issued:  # shared files of a freshly issued identity are no news
        changes.append(Change(org, ident.name, "msp", "updated", f"{written} files"))
    return changes
