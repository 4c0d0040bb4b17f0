"""``status``: every certificate the specs call for, read from the tree, with its expiry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from cryptography import x509

from pki import crl
from pki.certs import days_left, read_cert, read_crl, utcnow
from pki.credentials import CREDENTIAL_KINDS, ISSUER, locate
from pki.identities import identities_of
from pki.layout import AuthorityKind, OrgPaths
from pki.orgstate import KINDS
from pki.results import EXPIRY_WARNING_DAYS, CertKind, CertState, CertStatus
from pki.spec import OrgSpec


def status(
    root: Path,
    orgs: Sequence[OrgSpec],
    *,
    warn_days: int = EXPIRY_WARNING_DAYS,
    now: datetime | None = None,
) -> list[CertStatus]:
    """One row per CA, signing and TLS certificate, in spec order. Never writes. While a CA
    rotation runs, the retiring CA has a row after the current one (holder ``<name>
    (retiring)``).

    ``state``: ``missing`` (not on disk or unreadable), ``revoked`` (listed in its CA's CRL),
    ``expired``, ``expiring`` (fewer than ``warn_days`` days left) or ``ok``.
    """
    now = now or utcnow()
    rows: list[CertStatus] = []
    for org in orgs:
        paths = OrgPaths.of(root, org)
        revoked: dict[AuthorityKind, frozenset[int]] = {}
        for ca_kind in KINDS:
            ca_paths = paths.authority(ca_kind)
            found = read_cert(ca_paths.cert)
            ca_cert = found[0] if found else None
            revoked[ca_kind] = (
                frozenset(crl.entries(read_crl(ca_paths.crl), ca_cert)) if ca_cert else frozenset()
            )
            rows.append(
                _row(org.name, ca_paths.name, ca_kind, ca_paths.cert, ca_cert, now, warn_days)
            )
            old_paths = paths.retiring(ca_kind)
            old = read_cert(old_paths.cert)
            if old is not None:
                holder = f"{old_paths.name} (retiring)"
                rows.append(_row(org.name, holder, ca_kind, old_paths.cert, old[0], now, warn_days))
                revoked[ca_kind] |= frozenset(crl.entries(read_crl(old_paths.crl), old[0]))
        for ident in identities_of(org):
            ipaths = paths.identity(ident)
            for kind in CREDENTIAL_KINDS:
                path = locate(ipaths, kind)[0]
                found = read_cert(path)
                cert = found[0] if found else None
                row = _row(org.name, ident.name, kind, path, cert, now, warn_days)
                if cert is not None and cert.serial_number in revoked[ISSUER[kind]]:
                    row = replace(row, state="revoked")
                rows.append(row)
    return rows


def _row(
    org: str,
    holder: str,
    kind: CertKind,
    path: Path,
    cert: x509.Certificate | None,
    now: datetime,
    warn_days: int,
) -> CertStatus:
    if cert is None:
        return CertStatus(org, holder, kind, path, "missing")
    left = days_left(cert, now)
    state: CertState = "ok"
    if cert.not_valid_after_utc <= now:
        state = "expired"
    elif left < warn_days:
        state = "expiring"
    return CertStatus(
        org,
        holder,
        kind,
        path,
        state,
        subject=cert.subject.rfc4514_string(),
        serial=f"{cert.serial_number:x}",
        not_after=cert.not_valid_after_utc,
        days_left=left,
    )
