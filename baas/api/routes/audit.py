"""``/api/v1/audit``: the audit log of mutating calls, newest first (consortium admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from baas.api.auth import Action, Principal, allow
from baas.api.context import Context, context
from baas.api.db.models import AuditRow
from baas.api.routes.common import errors
from baas.api.schemas import AuditEntry, AuditList

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=AuditList, responses=errors())
def read_audit(
    limit: int = Query(100, ge=1, le=1000),
    before: int | None = Query(None, ge=1, description="Entries older than this id."),
    _: Principal = Depends(allow(Action.read_audit)),
    ctx: Context = Depends(context),
) -> AuditList:
    """Who did what, when, with what outcome."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditRow.id < before)
    with ctx.db.session() as session:
        return AuditList(items=[AuditEntry.of(r) for r in session.scalars(query).all()])
