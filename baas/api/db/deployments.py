"""Queries on deployment jobs and their events."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from baas.api.db.models import ACTIVE_STATES, DeploymentRow, EventRow, now


class ActiveDeployment(Exception):
    """The network already has an unfinished job: its ``id``, ``action`` and ``state``."""

    def __init__(self, job: DeploymentRow) -> None:
        super().__init__(job.id)
        self.id, self.action, self.state = job.id, job.action, job.state


def active_for(session: Session, network: str) -> DeploymentRow | None:
    """The network's unfinished job, if any."""
    query = select(DeploymentRow).where(
        DeploymentRow.network == network, DeploymentRow.state.in_(ACTIVE_STATES)
    )
    return session.scalars(query).first()


def create(
    session: Session,
    *,
    network: str,
    action: str,
    target: str,
    purge: bool,
    revision: int,
    created_by: str | None,
) -> DeploymentRow:
    """A new ``queued`` job with its first event. Raises :class:`ActiveDeployment` when the
    network has an unfinished one (the unique partial index decides races)."""
    running = active_for(session, network)
    if running is not None:
        raise ActiveDeployment(running)
    row = DeploymentRow(
        id="dep_" + secrets.token_hex(8),
        network=network,
        action=action,
        target=target,
        purge=purge,
        state="queued",
        revision=revision,
        created_at=now(),
        created_by=created_by,
        cancel_requested=False,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        running = active_for(session, network)
        if running is None:
            raise
        raise ActiveDeployment(running) from None
    append_event(session, row.id, "state", {"state": "queued", "action": action})
    return row


def get(session: Session, job_id: str) -> DeploymentRow | None:
    return session.get(DeploymentRow, job_id)


def list_for(session: Session, network: str, *, limit: int) -> Sequence[DeploymentRow]:
    """The network's jobs, newest first."""
    query = (
        select(DeploymentRow)
        .where(DeploymentRow.network == network)
        .order_by(DeploymentRow.created_at.desc(), DeploymentRow.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def latest_for(session: Session, network: str) -> DeploymentRow | None:
    rows = list_for(session, network, limit=1)
    return rows[0] if rows else None


def append_event(session: Session, job_id: str, kind: str, data: dict[str, Any]) -> EventRow:
    row = EventRow(deployment_id=job_id, at=now(), kind=kind, data=data)
    session.add(row)
    session.flush()
    return row


def events_after(
    session: Session, job_id: str, *, after: int, limit: int = 500
) -> Sequence[EventRow]:
    """The job's events with an id above ``after``, oldest first."""
    query = (
        select(EventRow)
        .where(EventRow.deployment_id == job_id, EventRow.id > after)
        .order_by(EventRow.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def unfinished(session: Session) -> Sequence[DeploymentRow]:
    query = select(DeploymentRow).where(DeploymentRow.state.in_(ACTIVE_STATES))
    return session.scalars(query).all()


def request_cancel(session: Session, job_id: str) -> None:
    session.execute(
        update(DeploymentRow).where(DeploymentRow.id == job_id).values(cancel_requested=True)
    )
