"""What every route reaches through ``Depends(context)``: the database, the settings and the job
runner of the running app (built once by :func:`baas.api.app.create_app`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from baas.api.db import Database
from baas.api.settings import ApiSettings

if TYPE_CHECKING:  # jobs imports services; keep this module light for auth
    from baas.api.jobs import JobRunner


@dataclass
class Context:
    db: Database
    settings: ApiSettings
    runner: JobRunner


async def context(request: Request) -> Context:
    """The app's :class:`Context`."""
    ctx: Context = request.app.state.ctx
    return ctx
