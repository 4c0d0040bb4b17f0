"""API tokens: created (``baas token create``), listed, revoked, and checked on every request.

A token's secret is ``baas_`` + 43 URL-safe characters from :func:`secrets.token_urlsafe`
(256 bits). Only its SHA-256 digest is stored; the secret is shown once, by the command that
creates it, and appears in no repr, log or response afterwards.

Roles (see :mod:`baas.api.auth` for what each may do): ``consortium-admin`` (never scoped),
``org-admin`` (always scoped to one organisation: ``--org``), ``chaincode-deployer`` and
``viewer`` (optionally scoped). An organisation is named as in the topology
(``spec.organizations[].name``) or by its MSP ID.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from baas.api.db import Database
from baas.api.db.models import AuditRow, TokenRow, now, utc
from baas.errors import UsageError

PREFIX = "baas_"
MAX_EXPIRY_DAYS = 3650
MIN_ID_PREFIX = 6
"""The fewest characters of an id :func:`revoke` takes as a prefix (``tok_`` and two more)."""
_ELLIPSES = ("…", "...")
_ORG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Role(StrEnum):
    consortium_admin = "consortium-admin"
    org_admin = "org-admin"
    chaincode_deployer = "chaincode-deployer"
    viewer = "viewer"


def digest(secret: str) -> str:
    """SHA-256 of ``secret``, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A token's metadata: everything but the secret."""

    id: str
    name: str
    role: Role
    org: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: TokenRow) -> TokenInfo:
        return cls(
            id=row.id,
            name=row.name,
            role=Role(row.role),
            org=row.org,
            created_at=utc(row.created_at),
            expires_at=utc(row.expires_at) if row.expires_at else None,
            revoked_at=utc(row.revoked_at) if row.revoked_at else None,
        )

    @property
    def state(self) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now():
            return "expired"
        return "active"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "org": self.org,
            "state": self.state,
            "createdAt": self.created_at.isoformat(),
            "expiresAt": self.expires_at.isoformat() if self.expires_at else None,
            "revokedAt": self.revoked_at.isoformat() if self.revoked_at else None,
        }


@dataclass(frozen=True)
class NewToken:
    """A token just created: its metadata and the secret (shown once; not in the repr)."""

    info: TokenInfo
    secret: str = field(repr=False)


def parse_role(value: str) -> Role:
    """``value`` as a :class:`Role`; :class:`UsageError` naming ``--role`` and the choices."""
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise UsageError(f"--role: unknown role {value!r}", hint=f"use one of: {choices}") from None


def _check_scope(role: Role, org: str | None) -> None:
    if role is Role.org_admin and not org:
        raise UsageError(
            "--org: an org-admin token is scoped to one organisation",
            hint="add --org ORG (the organisation's name or MSP ID in the topology)",
        )
    if role is Role.consortium_admin and org:
        raise UsageError(
            "--org: a consortium-admin token acts on every organisation and takes no --org",
            hint="drop --org, or use --role org-admin --org ORG",
        )
    if org and not _ORG.match(org):
        raise UsageError(
            f"--org: {org!r} is not an organisation name or MSP ID",
            hint="letters, digits, '.', '_' and '-', at most 64 characters (e.g. org1, Org1MSP)",
        )


def create(
    db: Database,
    *,
    role: Role,
    org: str | None = None,
    expires_days: int | None = None,
    name: str = "",
) -> NewToken:
    """Store a new token and return it with its secret. ``expires_days`` (1 to 3650; None:
    never) counts from now. Raises :class:`UsageError` for a bad scope or expiry."""
    _check_scope(role, org)
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise UsageError(
            f"--expires: {expires_days} is not a number of days from 1 to {MAX_EXPIRY_DAYS}",
            hint="e.g. --expires 90",
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    created = now()
    row = TokenRow(
        id="tok_" + secrets.token_hex(6),
        name=name[:200] or f"{role.value}{'@' + org if org else ''}",
        role=role.value,
        org=org or None,
        digest=digest(secret),
        created_at=created,
        expires_at=created + timedelta(days=expires_days) if expires_days else None,
        revoked_at=None,
    )
    with db.session() as session:
        session.add(row)
        _audit(session, "token create", row)
    return NewToken(TokenInfo.of(row), secret)


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "unknown"


def _audit(session: Any, command: str, row: TokenRow) -> None:
    """The audit log entry of a ``baas token`` command (the API's entries come from its
    middleware)."""
    session.add(
        AuditRow(
            at=now(),
            actor=f"cli:{_operator()}",
            role=None,
            org=None,
            method="CLI",
            path=f"baas {command}",
            status=0,
            outcome="ok",
            detail={"token": row.id, "role": row.role, "org": row.org},
        )
    )


def list_all(db: Database) -> list[TokenInfo]:
    """Every token, oldest first (revoked and expired ones included)."""
    with db.session() as session:
        rows = session.scalars(select(TokenRow).order_by(TokenRow.created_at)).all()
        return [TokenInfo.of(r) for r in rows]


def _find(session: Session, given: str) -> TokenRow:
    """The token whose id is ``given``, else the one whose id starts with it (``given`` less a
    trailing ``…`` or ``...``, as a narrow table may show an id; at least
    :data:`MIN_ID_PREFIX` characters; matched literally: ``_`` and ``%`` are no wildcards).
    :class:`UsageError` (exit 2) for a prefix too short, one that matches nothing, or one that
    matches several (naming them all)."""
    exact = session.get(TokenRow, given)
    if exact is not None:
        return exact
    prefix = given.removesuffix(_ELLIPSES[0]).removesuffix(_ELLIPSES[1])
    listed = "`baas token list` shows the ids"
    if len(prefix) < MIN_ID_PREFIX:
        raise UsageError(
            f"no token {given!r}",
            hint=f"{listed}; give a whole id or at least its first {MIN_ID_PREFIX} characters",
        )
    query = select(TokenRow).where(TokenRow.id.startswith(prefix, autoescape=True))
    rows = list(session.scalars(query.order_by(TokenRow.id)).all())
    if not rows:
        raise UsageError(f"no token {given!r}", hint=listed)
    if len(rows) > 1:
        raise UsageError(
            f"{given!r} is the start of {len(rows)} token ids: "
            f"{', '.join(r.id for r in rows)}; nothing was revoked",
            hint="give more of the id, or all of it",
        )
    return rows[0]


def revoke(db: Database, token_id: str) -> TokenInfo:
    """Revoke the token ``token_id``: its full id, or the start of exactly one id (at least
    :data:`MIN_ID_PREFIX` characters; a trailing ``…`` is ignored). Idempotent: an already
    revoked token keeps its time. Raises :class:`UsageError` for an id that matches no token
    or, naming them, several."""
    with db.session() as session:
        row = _find(session, token_id.strip())
        if row.revoked_at is None:
            row.revoked_at = now()
            _audit(session, "token revoke", row)
        return TokenInfo.of(row)


_BY_DIGEST = select(
    TokenRow.id,
    TokenRow.name,
    TokenRow.role,
    TokenRow.org,
    TokenRow.digest,
    TokenRow.created_at,
    TokenRow.expires_at,
    TokenRow.revoked_at,
).where(TokenRow.digest == bindparam("digest"))


def verify(db: Database, secret: str) -> TokenInfo | None:
    """The active token whose secret is ``secret``; None when unknown, expired or revoked.
    (On every request: one indexed read, without the ORM.)"""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    wanted = digest(secret)
    with db.engine.connect() as connection:
        row = connection.execute(_BY_DIGEST, {"digest": wanted}).first()
    if row is None or not hmac.compare_digest(row.digest, wanted):
        return None
    info = TokenInfo(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        org=row.org,
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at) if row.expires_at else None,
        revoked_at=utc(row.revoked_at) if row.revoked_at else None,
    )
    return info if info.state == "active" else None
