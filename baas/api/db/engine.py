"""The database the API (and ``baas token``) use: SQLite under ``$BAAS_HOME`` by default,
PostgreSQL (or any SQLAlchemy URL) through ``BAAS_DATABASE_URL``.

:class:`Database` owns the engine and hands out sessions; :meth:`Database.migrate` brings the
schema to the newest Alembic revision (idempotent, run at every server start and before every
``baas token`` command). A URL's password never appears in messages: :attr:`Database.shown`
masks it.

A SQLite database holds token hashes and the audit log, so its file and its companions
(``-wal``, ``-shm``, ``-journal``) are mode 0600 (:func:`secure_sqlite_file`), and the default
one lives in ``$BAAS_HOME``, created 0700 (:func:`baas.home.ensure_home`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from baas.errors import OperationError, UsageError
from baas.home import FILE_MODE, baas_home, ensure_home, private_file

DATABASE_URL_ENV = "BAAS_DATABASE_URL"
SQLITE_FILE = "api.sqlite3"
T = TypeVar("T")
MIGRATIONS = "baas.api.db:migrations"
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def default_url() -> str:
    """``$BAAS_DATABASE_URL``, else SQLite at ``$BAAS_HOME/api.sqlite3``."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{baas_home() / SQLITE_FILE}"


def _normalise(url: str) -> str:
    """``postgres://`` and ``postgresql://`` use psycopg 3 (the driver baas installs)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def secure_sqlite_file(database: str) -> Path:
    """Make the SQLite file ``database`` private before SQLite opens it: its folder exists
    (``$BAAS_HOME`` through :func:`ensure_home`, 0700; another missing folder is created 0700),
    the file exists with mode 0600 (an existing one, e.g. made 0644 by an older baas, is
    tightened), and so do the companions that exist (SQLite creates new ones with the main
    file's mode). Returns the file's absolute path."""
    path = Path(os.path.abspath(database))
    if path.parent == Path(os.path.abspath(baas_home())):
        ensure_home()
    elif not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_file(path)
    tighten_companions(path)
    return path


def tighten_companions(path: Path) -> None:
    """Set the existing ``-wal``/``-shm``/``-journal`` files of the database ``path`` to 0600
    (one that vanishes meanwhile is skipped)."""
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        try:
            if companion.stat().st_mode & 0o777 != FILE_MODE:
                os.chmod(companion, FILE_MODE)
        except FileNotFoundError:
            continue


def _sqlite_setup(path: Path | None) -> Callable[[Any, Any], None]:
    """The ``connect`` listener: the pragmas baas runs SQLite with, then (for a file
    database) the companions' modes, which WAL mode has just created."""

    def setup(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        if path is not None:
            tighten_companions(path)

    return setup


class Database:
    """One database: ``url`` (see :func:`default_url`). Raises :class:`UsageError` naming
    ``BAAS_DATABASE_URL`` for a URL SQLAlchemy cannot parse. Creating it connects to nothing;
    :meth:`migrate` does."""

    def __init__(self, url: str | None = None) -> None:
        raw = _normalise(url or default_url())
        try:
            parsed = make_url(raw)
        except ArgumentError:
            raise UsageError(
                "BAAS_DATABASE_URL is not a database URL",
                hint="use e.g. postgresql://user:password@host:5432/baas, or unset it for "
                "SQLite under $BAAS_HOME",
            ) from None
        self.shown = parsed.render_as_string(hide_password=True)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"pool_pre_ping": not self.is_sqlite}
        sqlite_file: Path | None = None
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                sqlite_file = secure_sqlite_file(parsed.database)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
            kwargs["pool_size"] = 20
            kwargs["max_overflow"] = 40
        else:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 40
            if parsed.get_backend_name() == "postgresql":
                kwargs["connect_args"] = {"connect_timeout": 10}
        try:
            self.engine: Engine = create_engine(parsed, **kwargs)
        except Exception as exc:  # an unknown dialect or a missing driver
            raise UsageError(
                f"cannot use database {self.shown}: {type(exc).__name__}",
                hint="baas supports sqlite:/// and postgresql:// URLs",
            ) from None
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_setup(sqlite_file))
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    async def run(self, read: Callable[..., T], *args: Any) -> T:
        """``read(*args)`` from a coroutine: on the event loop for SQLite (a short read of a
        local file costs less than a hop to a worker thread, and WAL readers never wait for
        writers), in the thread pool for a database across a network (which could stall)."""
        if self.is_sqlite:
            return read(*args)
        return await run_in_threadpool(read, *args)

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision (a no-op when it is there). Raises
        :class:`OperationError` when the database cannot be reached."""
        config = Config()
        config.set_main_option("script_location", MIGRATIONS)
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise OperationError(
                f"cannot reach the database {self.shown}",
                hint=f"check {DATABASE_URL_ENV} and that the server runs "
                f"({type(exc.orig).__name__})",
            ) from None

    def ping(self) -> bool:
        """True when a trivial query succeeds."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
