"""Fixtures of the API tests: a real ``baas serve`` per test module and database backend
(SQLite under the server's ``BAAS_HOME``, and a real PostgreSQL server started for the session),
with a token of every role."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.support import ApiServer, Tokens, server_env
from tests.support.postgres import PostgresServer, find_bin, running_postgres

BACKENDS = ["sqlite", "postgresql"]
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session (Debian's package; `scripts/install-postgres.sh`).
    Skips where it is not installed, except in CI, where that is a failure."""
    bin_dir = find_bin()
    if bin_dir is None:
        message = (
            "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin); "
            "`bash scripts/install-postgres.sh` installs Debian's postgresql"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with running_postgres(bin_dir) as server:
        yield server


def database_url(request: pytest.FixtureRequest, backend: str, home: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{home / 'api.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database(f"baas_test_{os.getpid()}_{next(_databases)}")


@dataclass
class Api:
    server: ApiServer
    tokens: Tokens


MakeApi = Callable[..., Api]


def _make(
    request: pytest.FixtureRequest, factory: pytest.TempPathFactory, started: list[ApiServer]
) -> MakeApi:
    def make(backend: str = "sqlite", *, fabric: bool = False, start: bool = True) -> Api:
        home = factory.mktemp(f"api-{backend}")
        url = database_url(request, backend, home)
        server = ApiServer(home=home, database_url=url, env=server_env(home, url, fabric=fabric))
        db = server.database()
        db.migrate()
        made = Tokens.create(db)
        db.dispose()
        started.append(server)
        if start:
            server.start()
        return Api(server, made)

    return make


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def api(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """One server per test module and backend (tests use their own network names)."""
    started: list[ApiServer] = []
    yield _make(request, tmp_path_factory, started)(backend)
    for server in started:
        if server.process is not None:
            server.stop()


@pytest.fixture
def make_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MakeApi]:
    """Servers of the test's own (stopped at its end)."""
    started: list[ApiServer] = []
    yield _make(request, tmp_path_factory, started)
    for server in started:
        if server.process is not None:
            server.kill()
