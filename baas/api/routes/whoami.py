"""``/api/v1/whoami``: the caller's own token (its name, role, organisation scope and expiry)
and the actions its role allows, so a client (the web console) shows only what the token may
do. Any valid token may ask; the secret itself is never returned."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from baas.api.auth import Action, Principal, allow
from baas.api.context import Context, context
from baas.api.db.models import TokenRow, utc
from baas.api.errors import unauthorized
from baas.api.routes.common import errors

router = APIRouter(prefix="/api/v1/whoami", tags=["meta"])


class Whoami(BaseModel):
    """The calling token: ``org`` null when it is not scoped to an organisation; ``actions``
    what its role may do (the names of :class:`baas.api.auth.Action`)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    id: str
    name: str
    role: str
    org: str | None
    expires_at: datetime | None = Field(alias="expiresAt")
    actions: list[str]


@router.get("", response_model=Whoami, responses=errors())
def whoami(
    principal: Principal = Depends(allow(*Action)),
    ctx: Context = Depends(context),
) -> Whoami:
    """The calling token's id, name, role, organisation (null: every organisation), expiry
    and the actions its role may perform (``read``, ``deploy-up``, ``read-audit``, …; a
    scoped token performs them on its own organisation only)."""
    with ctx.db.session() as session:
        row = session.get(TokenRow, principal.token_id)
        if row is None:  # revoked and removed between the check and this read
            raise unauthorized()
        return Whoami(
            id=row.id,
            name=row.name,
            role=principal.role.value,
            org=principal.org,
            expires_at=utc(row.expires_at) if row.expires_at else None,
            actions=[a.value for a in Action if principal.may(a)],
        )
