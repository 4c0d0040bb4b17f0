"""``revoke``: list an identity's certificates in its organisation's CRLs and publish them.

The signing certificate goes into the signing CA's CRL, the TLS certificate into the TLS CA's
CRL. The CRLs are stored next to their CA (``ca/ca.<domain>-crl.pem``) and copied into the
``crls/`` folder of every MSP of the organisation found on disk. A later ``generate`` issues the
revoked identity a replacement with a new key (or remove it from the topology).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from baas.errors import UsageError
from pki import crl, files
from pki.certs import issued_by, read_cert, read_crl, utcnow
from pki.credentials import CREDENTIAL_KINDS, ISSUER, locate
from pki.identities import find_identity, validate
from pki.layout import AuthorityKind
from pki.orgstate import KINDS, OrgContext, open_org
from pki.results import Change, PKIResult
from pki.spec import OrgSpec, PKIOptions


def revoke(
    root: Path,
    orgs: Sequence[OrgSpec],
    name: str,
    *,
    options: PKIOptions | None = None,
    now: datetime | None = None,
) -> PKIResult:
    """Revoke the current signing and TLS certificates of identity ``name``.

    Idempotent: an already listed serial changes nothing (reported as ``kept``). Raises
    :class:`UsageError` for an unknown identity or one without any certificate on disk.
    """
    options = options or PKIOptions()
    validate(orgs, options)
    now = now or utcnow()
    org, ident = find_identity(orgs, name)
    ctx, _ = open_org(root, org, options, now=now, create=False)
    paths = ctx.paths.identity(ident)
    result = PKIResult(root)
    found_any = False
    for item in CREDENTIAL_KINDS:
        kind = ISSUER[item]
        found = read_cert(locate(paths, item)[0])
        if found is None or not issued_by(found[0], ctx.authorities[kind].cert):
            continue
        found_any = True
        serial = found[0].serial_number
        if serial in ctx.revoked[kind]:
            result.changes.append(Change(org.name, ident.name, item, "kept", "already revoked"))
            continue
        _add_to_crl(ctx, kind, serial, options=options, now=now)
        result.changes.append(Change(org.name, ident.name, item, "revoked", f"serial {serial:x}"))
    if not found_any:
        raise UsageError(
            f"{ident.name} has no certificate issued by its organisation's CAs",
            hint="nothing to revoke; run `baas pki status` to see what is on disk",
        )
    result.changes.extend(publish_crls(ctx))
    return result


def _add_to_crl(
    ctx: OrgContext, kind: AuthorityKind, serial: int, *, options: PKIOptions, now: datetime
) -> None:
    ca_paths = ctx.paths.authority(kind)
    authority = ctx.authorities[kind]
    current = read_crl(ca_paths.crl)
    listed = crl.entries(current, authority.cert)
    listed[serial] = now.replace(microsecond=0)
    data = crl.build_crl(
        authority,
        listed.items(),
        number=crl.crl_number(current) + 1,
        now=now,
        days=options.leaf_validity_days,
    )
    files.ensure_file(ca_paths.crl, data)


def publish_crls(ctx: OrgContext) -> list[Change]:
    """Copy both CAs' CRLs (those that exist) into every MSP ``crls/`` folder on disk."""
    changes: list[Change] = []
    for kind in KINDS:
        ca_paths = ctx.paths.authority(kind)
        data = files.read(ca_paths.crl)
        if data is None:
            continue
        written = sum(
            files.ensure_file(msp / "crls" / ca_paths.crl_name, data)
            for msp in ctx.paths.all_msps()
        )
        if written:
            changes.append(
                Change(
                    ctx.spec.name, ca_paths.name, "crl", "updated", f"published to {written} MSPs"
                )
            )
    return changes
