"""The API's tables (SQLAlchemy 2 declarative models). The schema itself is owned by the Alembic
migrations in ``migrations/versions``; these classes must describe the same tables (the test
suite compares them after ``upgrade head``).

What lives here: networks' topologies, jobs (``up``, ``down``, ``smoke``) and their events, API
tokens (only a SHA-256 digest of each secret), the audit log and idempotency records. A network's
files (PKI, ledgers, logs) stay under ``$BAAS_HOME/networks/<name>/`` where the CLI keeps them.

Times are stored in UTC; SQLite hands them back without a zone, so read them through
:func:`utc`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ACTIVE_STATES = ("queued", "running")
"""Deployment states of a job that has not finished; at most one per network."""

FINAL_STATES = ("succeeded", "failed", "cancelled", "interrupted")

_ACTIVE_SQL = text("state IN ('queued', 'running')")


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (SQLite returns naive ones)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class NetworkRow(Base):
    """A network created through the API: its topology exactly as posted (``source``, YAML or
    JSON) and what validation said of it (``summary``: counts, organisations, warnings).
    ``deployed_source`` / ``deployed_revision``: the topology the last successful ``up`` ran
    (None before the first): what a scoped caller's ``up`` is judged against
    (:mod:`baas.network.signatures`)."""

    __tablename__ = "networks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    target: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(String(32))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    deployed_source: Mapped[str | None] = mapped_column(Text, nullable=True)
    deployed_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DeploymentRow(Base):
    """One ``up``, ``down`` or ``smoke`` job. ``last_step`` is the last progress line the service
    reported (what an interrupted job had reached); ``result`` the service's outcome
    (``to_dict()``, with the phases and their timings); ``error`` message and hint."""

    __tablename__ = "deployments"
    __table_args__ = (
        Index(
            "ix_deployments_one_active",
            "network",
            unique=True,
            sqlite_where=_ACTIVE_SQL,
            postgresql_where=_ACTIVE_SQL,
        ),
        Index("ix_deployments_network_created", "network", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    network: Mapped[str] = mapped_column(
        String(64), ForeignKey("networks.name", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(String(8))
    target: Mapped[str] = mapped_column(String(16))
    purge: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_step: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)


class EventRow(Base):
    """One event of a deployment (``kind``: ``state`` or ``progress``). The autoincrement
    ``id`` is the SSE event id: increasing within a job, so ``Last-Event-ID`` resumes."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_deployment_id", "deployment_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("deployments.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class TokenRow(Base):
    """An API token: ``digest`` is the SHA-256 of the secret (the secret itself is shown once
    and never stored)."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    org: Mapped[str | None] = mapped_column(String(64), nullable=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditRow(Base):
    """One mutating call: who (token id, role, org; ``anonymous`` without a valid token), what
    (method, path, ``detail``), when and the outcome (HTTP status)."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    org: Mapped[str | None] = mapped_column(String(64), nullable=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class IdempotencyRow(Base):
    """A POST made with an ``Idempotency-Key``: per token digest and key, the request's
    fingerprint and, once it succeeded, the response to replay."""

    __tablename__ = "idempotency"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    headers: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
