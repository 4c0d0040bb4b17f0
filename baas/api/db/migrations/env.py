"""Alembic's environment: migrations run on the connection :meth:`Database.migrate` passes in
``config.attributes["connection"]`` (baas never reads an ``alembic.ini``)."""

from __future__ import annotations

from alembic import context

from baas.api.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only Database.migrate runs migrations
    raise RuntimeError("run migrations through baas.api.db.Database.migrate()")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
