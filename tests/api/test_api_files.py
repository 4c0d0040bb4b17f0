"""The files baas writes that hold token hashes and the audit log are private: the SQLite
database and its ``-wal``/``-shm`` companions are 0600, in a ``$BAAS_HOME`` created 0700, with
the usual umask (022) in force. Checked on a real ``baas token create`` and a real
``baas serve`` (which migrates, writes the audit log and keeps WAL files open), on a home that
does not exist yet, on an older baas's 0644 database, on the default ``~/.baas`` (tightened)
and on a user's own open ``$BAAS_HOME`` (left alone, with a warning)."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.support import BAAS, ApiServer, two_orgs

YAML = {"Content-Type": "application/yaml"}
DB = "api.sqlite3"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common umask, so that what is private is private because baas made it so."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _env(*, home: Path | None, user_home: Path) -> dict[str, str]:
    """The environment of a real ``baas``: SQLite under the home (no ``BAAS_DATABASE_URL``);
    ``BAAS_HOME`` set to ``home``, or unset (the default ``~/.baas``, ``HOME`` being
    ``user_home``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAAS_", "FABRIC_BIN"))}
    env.update(HOME=str(user_home), PYTHONUNBUFFERED="1")
    if home is not None:
        env["BAAS_HOME"] = str(home)
    empty = user_home / "no-fabric"
    empty.mkdir(exist_ok=True)
    env["FABRIC_BIN"] = str(empty)
    return env


def _baas(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(BAAS), *argv], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done


def _private(home: Path) -> None:
    """The database and every companion that exists are 0600, the home 0700."""
    assert mode(home) == 0o700
    files = [p for p in home.iterdir() if p.name.startswith(DB)]
    assert home / DB in files
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_a_new_home_and_database_are_private_under_a_real_server(
    tmp_path: Path, umask_022: None
) -> None:
    home = tmp_path / "new" / "home"  # neither exists yet
    env = _env(home=home, user_home=tmp_path)
    secret = _baas(env, "token", "create", "--role", "consortium-admin").stdout.strip()
    _private(home)

    log_dir = tmp_path / "logs"  # the test's own log, outside the home
    log_dir.mkdir()
    server = ApiServer(home=log_dir, database_url="", env=env)
    server.start()
    try:
        with server.client(secret) as http:
            created = http.post("/api/v1/networks", content=two_orgs("files"), headers=YAML)
            assert created.status_code == 201, created.text
            assert http.get("/api/v1/audit").status_code == 200
        companions = {p.name for p in home.iterdir() if p.name.startswith(DB)}
        assert {f"{DB}-wal", f"{DB}-shm"} <= companions  # WAL mode, while the server runs
        _private(home)
    finally:
        server.stop()
    _private(home)


def test_an_older_open_database_is_tightened(tmp_path: Path, umask_022: None) -> None:
    """A user's own ``$BAAS_HOME`` is not changed (a warning names the fix); the database in
    it, baas's own file, is set to 0600 with its companions."""
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    for name in (DB, f"{DB}-wal", f"{DB}-shm"):
        (home / name).touch(mode=0o644)
    (home / f"{DB}-wal").unlink()  # an empty -shm without -wal is fine for SQLite
    done = _baas(_env(home=home, user_home=tmp_path), "token", "list")
    assert mode(home) == 0o755
    assert f"chmod 700 {home}" in done.stderr
    assert {p.name: mode(p) for p in home.iterdir() if p.name.startswith(DB)} == {
        p.name: 0o600 for p in home.iterdir() if p.name.startswith(DB)
    }


def test_the_default_home_is_tightened(tmp_path: Path, umask_022: None) -> None:
    """``~/.baas`` is baas's own folder: an open one (as older versions made it) becomes 0700."""
    default = tmp_path / ".baas"
    default.mkdir(mode=0o755)
    done = _baas(_env(home=None, user_home=tmp_path), "token", "create", "--role", "viewer")
    assert "tightened" in done.stderr
    _private(default)


def test_a_database_url_elsewhere_is_private_too(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "elsewhere" / "db" / "baas.sqlite3"
    env = _env(home=tmp_path / "home", user_home=tmp_path)
    env["BAAS_DATABASE_URL"] = f"sqlite:///{target}"
    _baas(env, "token", "create", "--role", "viewer")
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
