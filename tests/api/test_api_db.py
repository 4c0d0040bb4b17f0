"""The API database on SQLite and on a real PostgreSQL server: the Alembic migrations build
exactly the tables the models describe, upgrading twice is a no-op, and the database itself
holds the one-unfinished-deployment-per-network rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from baas.api.db import Database
from baas.api.db.models import Base, DeploymentRow, NetworkRow
from baas.errors import UsageError
from tests.api.conftest import BACKENDS, database_url


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = Database(database_url(request, str(request.param), tmp_path))
    database.migrate()
    yield database
    database.dispose()


def test_migrations_match_the_models_and_rerun(db: Database) -> None:
    db.migrate()
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    assert diff == []
    assert {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"} == tables


def _job(job_id: str, state: str) -> DeploymentRow:
    stamp = datetime.now(UTC)
    return DeploymentRow(
        id=job_id,
        network="n1",
        action="up",
        target="local",
        purge=False,
        state=state,
        revision=1,
        created_at=stamp,
        cancel_requested=False,
    )


def test_one_unfinished_deployment_per_network(db: Database) -> None:
    stamp = datetime.now(UTC)
    with db.session() as session:
        session.add(
            NetworkRow(
                name="n1",
                target="local",
                source="",
                media_type="application/yaml",
                summary={},
                revision=1,
                created_at=stamp,
                updated_at=stamp,
            )
        )
        session.flush()
        session.add_all([_job("d1", "succeeded"), _job("d2", "failed"), _job("d3", "running")])
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(_job("d4", "queued"))
    with db.session() as session:
        row = session.get(DeploymentRow, "d3")
        assert row is not None
        row.state = "interrupted"
    with db.session() as session:
        session.add(_job("d4", "queued"))


def test_a_bad_url_names_the_variable() -> None:
    with pytest.raises(UsageError, match="BAAS_DATABASE_URL"):
        Database("not a url")


def test_the_url_password_is_masked() -> None:
    shown = Database("postgresql://baas:s3cret-pw@127.0.0.1:1/baas").shown
    assert "s3cret-pw" not in shown and "***" in shown
