"""Deployments as tracked jobs: each runs one service call (``services.up`` / ``down``) in a
worker thread; the service's ``report`` callback appends a ``progress`` event per line, and
the job's state changes are ``state`` events (``queued`` → ``running`` → ``succeeded`` /
``failed`` / ``cancelled`` / ``interrupted``). Events go to the database first, then wake
the SSE streams waiting in the event loop (:class:`EventBus`).

Cancelling is cooperative: the flag is checked at the service's next progress line (between
steps), where the job stops with ``cancelled``; whatever the service finished stays done, and
a new ``up`` converges from there. A server that stops gracefully interrupts its jobs the same
way; one that is killed leaves them unfinished, and :meth:`JobRunner.recover` marks them
``interrupted`` with their last step when the next server starts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Protocol

from baas.api.db import Database
from baas.api.db import deployments as jobs_db
from baas.api.db.models import DeploymentRow, now
from baas.api.errors import error_dict

log = logging.getLogger("baas.api.jobs")


class _Outcome(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


Work = Callable[[Callable[[str], None]], _Outcome]
"""A job's work: a service call given the ``report`` callback."""


def _retry(action: str) -> str:
    if action == "smoke":
        return "run smoke again"
    return f"start a new `{action}`: it converges from what exists"


class Stopped(Exception):
    """Raised from ``report`` to stop a job at its next step (``state``: why)."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


class EventBus:
    """Wakes the coroutines waiting for a job's next event. Worker threads call
    :meth:`publish`; waiters re-read the database, so a missed wake-up costs at most the
    waiter's timeout."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: dict[str, set[asyncio.Event]] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, job_id: str) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake, job_id)

    def _wake(self, job_id: str) -> None:
        for waiter in self._waiters.get(job_id, ()):
            waiter.set()

    def waiter(self, job_id: str) -> asyncio.Event:
        """A fresh event set at the job's next publish (register it before reading)."""
        event = asyncio.Event()
        self._waiters.setdefault(job_id, set()).add(event)
        return event

    def forget(self, job_id: str, event: asyncio.Event) -> None:
        waiters = self._waiters.get(job_id)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                del self._waiters[job_id]


class JobRunner:
    """Runs jobs on ``workers`` threads; one :class:`EventBus` for their events."""

    def __init__(self, db: Database, *, workers: int = 4) -> None:
        self.db = db
        self.bus = EventBus()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="baas-job")
        self._stops: dict[str, str] = {}
        self._stopping = False
        self._lock = threading.Lock()

    def start(self, job_id: str, work: Work) -> None:
        """Run ``work`` for the (already stored, ``queued``) job ``job_id``."""
        self._pool.submit(self._run, job_id, work)

    def cancel(self, job_id: str) -> None:
        """Ask job ``job_id`` to stop at its next step (recorded in the database too)."""
        with self._lock:
            self._stops[job_id] = "cancelled"
        with self.db.session() as session:
            jobs_db.request_cancel(session, job_id)

    def recover(self) -> list[str]:
        """Mark every unfinished job ``interrupted`` (a previous server stopped while it ran);
        returns their ids. Run at start-up, before any job starts."""
        with self.db.session() as session:
            rows = list(jobs_db.unfinished(session))
            for row in rows:
                finish(
                    session,
                    row,
                    "interrupted",
                    error={
                        "message": f"the server stopped during this {row.action}"
                        + (f" (last step: {row.last_step})" if row.last_step else ""),
                        "hint": _retry(row.action),
                    },
                )
        for row in rows:
            log.warning("deployment %s of %s was interrupted", row.id, row.network)
        return [r.id for r in rows]

    def shutdown(self) -> None:
        """Interrupt running jobs at their next step and wait for the workers."""
        with self._lock:
            self._stopping = True
        self._pool.shutdown(wait=True, cancel_futures=False)

    # --------------------------------------------------------------------- the worker

    def _stop_reason(self, job_id: str) -> str | None:
        with self._lock:
            return self._stops.get(job_id) or ("interrupted" if self._stopping else None)

    def _event(self, job_id: str, kind: str, data: dict[str, Any]) -> None:
        with self.db.session() as session:
            jobs_db.append_event(session, job_id, kind, data)
            if kind == "progress":
                row = jobs_db.get(session, job_id)
                if row is not None:
                    row.last_step = str(data["message"])
        self.bus.publish(job_id)

    def _report(self, job_id: str) -> Callable[[str], None]:
        def report(line: str) -> None:
            reason = self._stop_reason(job_id)
            if reason is not None:
                raise Stopped(reason)
            self._event(job_id, "progress", {"message": line})

        return report

    def _begin(self, job_id: str) -> bool:
        """Mark the job running; False when it was cancelled while queued."""
        with self.db.session() as session:
            row = jobs_db.get(session, job_id)
            if row is None:
                return False
            if row.cancel_requested or self._stop_reason(job_id):
                finish(session, row, self._stop_reason(job_id) or "cancelled")
                return False
            row.state = "running"
            row.started_at = now()
            jobs_db.append_event(session, job_id, "state", {"state": "running"})
        self.bus.publish(job_id)
        return True

    def _run(self, job_id: str, work: Work) -> None:
        try:
            if not self._begin(job_id):
                return
            outcome = work(self._report(job_id))
            close(self.db, job_id, "succeeded", result=outcome.to_dict())
        except Stopped as stop:
            close(self.db, job_id, stop.state)
        except BaseException as exc:  # every failure is recorded; none escapes the thread
            close(self.db, job_id, "failed", error=error_dict(exc))
        finally:
            with self._lock:
                self._stops.pop(job_id, None)
            self.bus.publish(job_id)


def finish(
    session: Any,
    row: DeploymentRow,
    state: str,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> None:
    """End job ``row`` in ``state`` (a final one) with its ``state`` event; a cancelled or
    interrupted job without ``error`` gets one naming its last step."""
    row.state = state
    row.finished_at = now()
    row.result = result
    if state in ("cancelled", "interrupted") and error is None:
        where = f" after: {row.last_step}" if row.last_step else " before its first step"
        error = {"message": f"the {row.action} was {state}{where}", "hint": _retry(row.action)}
    row.error = error
    data: dict[str, Any] = {"state": state, "lastStep": row.last_step}
    if error is not None:
        data["error"] = error
    if result is not None:
        data["result"] = result
    jobs_db.append_event(session, row.id, "state", data)


def claim(
    db: Database,
    *,
    network: str,
    action: str,
    target: str,
    revision: int,
    created_by: str | None,
    purge: bool = False,
) -> DeploymentRow:
    """Take ``network``'s one lock — the unfinished-job slot every job takes — for a change
    made within the request (replace, delete, renew, revoke): a ``running`` job of
    ``action``, to be ended by :func:`holding`. Raises
    :class:`~baas.api.db.deployments.ActiveDeployment` while another job holds the
    network."""
    with db.session() as session:
        row = jobs_db.create(
            session,
            network=network,
            action=action,
            target=target,
            purge=purge,
            revision=revision,
            created_by=created_by,
        )
        row.state, row.started_at = "running", now()
        jobs_db.append_event(session, row.id, "state", {"state": "running"})
    return row


@contextmanager
def holding(db: Database, row: DeploymentRow) -> Iterator[DeploymentRow]:
    """Run the block under the lock job ``row`` (from :func:`claim`) holds; the job ends
    ``succeeded``, or ``failed`` with the error, when the block does. A block that deletes
    the network deletes its jobs, this one included."""
    try:
        yield row
    except BaseException as exc:
        close(db, row.id, "failed", error=error_dict(exc))
        raise
    close(db, row.id, "succeeded")


def close(
    db: Database,
    job_id: str,
    state: str,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> None:
    """:func:`finish` job ``job_id`` in its own session (nothing when it is gone)."""
    with db.session() as session:
        row = jobs_db.get(session, job_id)
        if row is not None:
            finish(session, row, state, result=result, error=error)
