"""A real ``baas serve`` process for the API tests, and the tokens of every role.

The server runs the installed ``baas`` command (uvicorn, the app factory, migrations at
start-up) on a free loopback port, with its own ``BAAS_HOME`` and database, and logs to a file
the tests can read (secrets must never reach it). Relative chaincode paths in posted
topologies resolve against ``examples/``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from baas.api import tokens
from baas.api.db import Database
from tests.support.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TWO_ORGS = (EXAMPLES / "two-orgs.yaml").read_text()
BAAS = Path(sys.executable).parent / "baas"
START_TIMEOUT = 60.0


def two_orgs(name: str = "supplychain") -> str:
    """examples/two-orgs.yaml under another network name."""
    return TWO_ORGS.replace("name: supplychain", f"name: {name}", 1)


@dataclass
class Tokens:
    """One token per role: ``org1``/``org2`` are org-admins of those organisations,
    ``outsider`` an org-admin of an organisation in no network."""

    admin: str
    org1: str
    org2: str
    outsider: str
    deployer: str
    viewer: str
    deployer1: str
    """A chaincode-deployer scoped to org1."""

    def __repr__(self) -> str:
        return "Tokens(<secrets>)"

    def all(self) -> list[str]:
        return [
            self.admin,
            self.org1,
            self.org2,
            self.outsider,
            self.deployer,
            self.viewer,
            self.deployer1,
        ]

    @classmethod
    def create(cls, db: Database) -> Tokens:
        role = tokens.Role

        def make(r: tokens.Role, org: str | None = None) -> str:
            return tokens.create(db, role=r, org=org, name=f"test {r.value} {org or ''}").secret

        return cls(
            admin=make(role.consortium_admin),
            org1=make(role.org_admin, "org1"),
            org2=make(role.org_admin, "Org2MSP"),
            outsider=make(role.org_admin, "org9"),
            deployer=make(role.chaincode_deployer),
            viewer=make(role.viewer),
            deployer1=make(role.chaincode_deployer, "org1"),
        )


@dataclass
class ApiServer:
    """``baas serve`` on ``port`` with ``env`` and ``--source-dir source_dir``;
    :meth:`start`, :meth:`stop` (SIGTERM), :meth:`kill` (SIGKILL, as a crash)."""

    home: Path
    database_url: str
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    source_dir: Path = EXAMPLES
    args: tuple[str, ...] = ()
    """More ``baas serve`` options (e.g. ``--max-upload-mib 1``)."""
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(BAAS),
                    "serve",
                    "--port",
                    str(self.port),
                    "--source-dir",
                    str(self.source_dir),
                    *self.args,
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"baas serve exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"baas serve did not answer: {self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> int:
        """SIGTERM and wait; the exit status (uvicorn re-raises the signal once it has shut
        down gracefully, so -15 is a clean stop too)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=120)
        self.process = None
        return code

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)
        self.process = None

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)

    def database(self) -> Database:
        return Database(self.database_url)


def server_env(home: Path, database_url: str, *, fabric: bool) -> dict[str, str]:
    """The server's environment: its own ``BAAS_HOME`` and database; without ``fabric``,
    ``FABRIC_BIN`` names an empty folder, so an ``up`` fails at once in its preflight (before
    any key is written) instead of running real nodes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAAS_", "FABRIC_BIN"))}
    env.update(BAAS_HOME=str(home), BAAS_DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    if not fabric:
        empty = home / "no-fabric"
        empty.mkdir(exist_ok=True)
        env["FABRIC_BIN"] = str(empty)
    return env


@dataclass(frozen=True)
class SseEvent:
    id: int
    kind: str
    data: dict[str, Any]


def read_events(client: httpx.Client, job: str, *, last: int | None = None) -> Iterator[SseEvent]:
    """The deployment's events as the server streams them (until it closes the stream)."""
    headers = {"Last-Event-ID": str(last)} if last is not None else {}
    with client.stream("GET", f"/api/v1/deployments/{job}/events", headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        frame: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "":
                if "data" in frame:
                    yield SseEvent(int(frame["id"]), frame["event"], json.loads(frame["data"]))
                frame = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                frame[key] = value
