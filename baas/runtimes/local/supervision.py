"""Long-lived processes of one local network, supervised by supervisord.

One supervisord per network, started on demand and left running after baas exits (it
daemonises into its own session). baas talks to it over XML-RPC on a unix socket. Layout under
the network's state folder::

    supervisor.sock                     the daemon's socket (see :func:`socket_path`)
    supervisor/supervisord.conf         the daemon's own config (rewritten before each start)
    supervisor/supervisord.pid
    supervisor/programs/<scope>/<name>.conf   one include file per program
    logs/supervisord.log, logs/<name>.log     (each program's stdout and stderr)

:meth:`Supervisor.ensure_programs` is an ensure: it writes the include files of one *scope*
(e.g. ``nodes``), asks the daemon to re-read its configuration and applies only the
difference — a program whose command or environment changed is restarted, unchanged ones are
not touched, programs whose file is gone are stopped and removed, programs that are stopped or
gave up are started again.

Every program runs with ``autorestart`` (a process that dies — SIGKILL included — is started
again; one that dies within ``startsecs`` is retried ``startretries`` times with growing
back-off, then left FATAL), is stopped with SIGTERM, then SIGKILL after ``stopwaitsecs``, both
sent to its whole process group.

**Environment**: a program sees exactly :attr:`ProgramSpec.env`, plus ``PATH``
(:data:`DEFAULT_PATH`) and ``HOME`` (the user's home) when the spec does not set them — nothing
of the environment baas or supervisord were started with (a shell with ``CORE_PEER_*`` exported
for the peer CLI must not leak into nodes). The command is ``env -i K=V ... argv``, so the env
is part of the program's configuration: changing it restarts the program.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from baas.errors import OperationError, UsageError
from baas.runtimes.local import logs

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
START_SECS = 1
START_RETRIES = 3
STOP_WAIT_SECS = 10
LOG_MAX_BYTES = "10MB"
LOG_BACKUPS = 3
DAEMON_START_TIMEOUT_S = 30.0
RPC_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = STOP_WAIT_SECS * 3 + 10.0
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS

RUNNING_STATES = frozenset({"STARTING", "RUNNING", "BACKOFF"})
"""States in which supervisord is (still) trying to keep a program up."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INI_COMMENT = re.compile(r"\s[;#]")

# supervisor.xmlrpc.Faults
_BAD_NAME = 10
_NOT_RUNNING = 70
_ALREADY_STARTED = 60
_ALREADY_ADDED = 90


# ------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class ProgramSpec:
    """One supervised program. ``name`` is its supervisord name (letters, digits, ``_ . -``);
    ``argv[0]`` an absolute path; ``env`` its whole environment (see the module docstring);
    ``cwd`` its working directory (created when absent); ``log_file`` receives its stdout and
    stderr, rotated at :data:`LOG_MAX_BYTES` keeping :data:`LOG_BACKUPS` files.

    Raises :class:`UsageError` for a value supervisord's config format cannot carry (newlines,
    `` ;`` / `` #``, NUL) or a bad name."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    log_file: Path

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise UsageError(
                f"{self.name!r} is not usable as a program name",
                hint="use letters, digits, '_', '.' and '-'",
            )
        if not self.argv or not os.path.isabs(self.argv[0]) or "=" in self.argv[0]:
            raise UsageError(f"program {self.name}: argv[0] must be an absolute path")
        for key in self.env:
            if not _ENV_NAME.match(key):
                raise UsageError(f"program {self.name}: {key!r} is not an environment name")
        texts = [*self.argv, *self.env.values(), str(self.cwd), str(self.log_file)]
        for text in texts:
            if "\0" in text or "\n" in text or "\r" in text or _INI_COMMENT.search(text):
                raise UsageError(
                    f"program {self.name}: {text[:60]!r} cannot be written to supervisord's "
                    "configuration",
                    hint="values must not contain newlines, NUL, ' ;' or ' #'",
                )


@dataclass(frozen=True)
class ProgramState:
    """A program as supervisord reports it. ``state`` is supervisord's state name (STOPPED,
    STARTING, RUNNING, BACKOFF, STOPPING, EXITED, FATAL, UNKNOWN); ``pid`` is None unless it
    runs; ``since`` the epoch time of the last start (running) or stop (otherwise), None when
    never started; ``exit_status`` of the last exit; ``spawn_error`` why it could not start."""

    name: str
    state: str
    pid: int | None
    since: float | None
    exit_status: int | None = None
    spawn_error: str = ""
    log_file: str = ""

    @property
    def running(self) -> bool:
        return self.state == "RUNNING"


ChangeAction = Literal["added", "restarted", "started", "removed"]


@dataclass(frozen=True)
class ProgramChange:
    """What :meth:`Supervisor.ensure_programs` did to one program: ``added`` (new),
    ``restarted`` (its configuration changed), ``started`` (was not running), ``removed``."""

    name: str
    action: ChangeAction

    def __str__(self) -> str:
        return f"{self.action} {self.name}"


# ------------------------------------------------------------------------------ deciding


def environment(spec: ProgramSpec) -> dict[str, str]:
    """The exact environment ``spec``'s process gets: its env plus PATH and HOME defaults."""
    env = {"PATH": DEFAULT_PATH, "HOME": str(Path.home())}
    env.update(spec.env)
    return dict(sorted(env.items()))


def _env_binary() -> str:
    return shutil.which("env", path=DEFAULT_PATH) or "/usr/bin/env"


def _ini(text: str) -> str:
    """A value for supervisord's config: ``%`` escaped (it expands ``%(name)s``)."""
    return text.replace("%", "%%")


def render_program(spec: ProgramSpec) -> str:
    """The include file of ``spec`` (a ``[program:<name>]`` section). Pure."""
    env_args = [f"{k}={v}" for k, v in environment(spec).items()]
    command = shlex.join([_env_binary(), "-i", *env_args, *spec.argv])
    settings = {
        "command": command,
        "directory": str(spec.cwd),
        "autostart": "true",
        "autorestart": "true",
        "startsecs": str(START_SECS),
        "startretries": str(START_RETRIES),
        "stopsignal": "TERM",
        "stopwaitsecs": str(STOP_WAIT_SECS),
        "stopasgroup": "true",
        "killasgroup": "true",
        "redirect_stderr": "true",
        "stdout_logfile": str(spec.log_file),
        "stdout_logfile_maxbytes": LOG_MAX_BYTES,
        "stdout_logfile_backups": str(LOG_BACKUPS),
    }
    body = "".join(f"{k} = {_ini(v)}\n" for k, v in settings.items())
    return f"; written by baas; rewritten by every `baas up`\n[program:{spec.name}]\n{body}"


def socket_path(state_dir: Path) -> Path:
    """``<state_dir>/supervisor.sock``, or — when that path is too long for a unix socket —
    ``/tmp/baas-<hash of state_dir>.sock``."""
    path = state_dir.absolute() / "supervisor.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(state_dir.absolute()).encode()).hexdigest()[:16]
    return Path("/tmp") / f"baas-{digest}.sock"


def render_daemon_config(state_dir: Path) -> str:
    """supervisord's own configuration for the network at ``state_dir``. Pure."""
    state = state_dir.absolute()
    sock = socket_path(state)
    here = state / "supervisor"
    log_dir = state / "logs"
    sections = {
        "unix_http_server": {"file": str(sock), "chmod": "0700"},
        "supervisord": {
            "logfile": str(log_dir / "supervisord.log"),
            "logfile_maxbytes": "5MB",
            "logfile_backups": "2",
            "loglevel": "info",
            "pidfile": str(here / "supervisord.pid"),
            "directory": str(state),
            "childlogdir": str(log_dir),
            "nodaemon": "false",
            "identifier": "baas",
        },
        "rpcinterface:supervisor": {
            "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"
        },
        "supervisorctl": {"serverurl": f"unix://{sock}"},
        "include": {"files": "programs/*/*.conf"},
    }
    out = ["; written by baas before the daemon starts\n"]
    for name, values in sections.items():
        out.append(f"\n[{name}]\n")
        out.extend(f"{k} = {_ini(v)}\n" for k, v in values.items())
    return "".join(out)


# ------------------------------------------------------------------------------ rpc


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__()
        self._path = path
        self._timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        return _UnixConnection(self._path, self._timeout)


def _fault_code(exc: xmlrpc.client.Fault) -> int:
    return int(exc.faultCode)


# ------------------------------------------------------------------------------ supervisor


@dataclass
class Supervisor:
    """The supervisord of the network whose state folder is ``state_dir``.

    ``python`` runs supervisord (``<python> -m supervisor.supervisord``); it must have the
    ``supervisor`` package (this interpreter does: it is a dependency of baas).
    """

    state_dir: Path
    python: str = field(default_factory=lambda: sys.executable)

    def __post_init__(self) -> None:
        self.state_dir = self.state_dir.absolute()

    # paths --------------------------------------------------------------------------
    @property
    def config_dir(self) -> Path:
        return self.state_dir / "supervisor"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "supervisord.conf"

    @property
    def pid_file(self) -> Path:
        return self.config_dir / "supervisord.pid"

    @property
    def socket(self) -> Path:
        return socket_path(self.state_dir)

    @property
    def daemon_log(self) -> Path:
        return self.state_dir / "logs" / "supervisord.log"

    def programs_dir(self, scope: str) -> Path:
        return self.config_dir / "programs" / scope

    # plumbing -----------------------------------------------------------------------
    def _rpc(self, timeout: float = RPC_TIMEOUT_S) -> Any:
        transport = _UnixTransport(str(self.socket), timeout)
        return xmlrpc.client.ServerProxy("http://localhost", transport=transport)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise baas processes acting on this network's daemon."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        with (self.config_dir / "lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def answers(self) -> bool:
        """True when a daemon answers on the socket and is not shutting down."""
        try:
            state = self._rpc(timeout=5.0).supervisor.getState()
        except (OSError, xmlrpc.client.Error, http.client.HTTPException):
            return False
        return bool(state.get("statename") == "RUNNING")

    def daemon_pid(self) -> int | None:
        """The daemon's pid from its pid file, when that process is alive and is this
        network's supervisord (a stale pid file may name a reused pid)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if not _alive(pid):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except FileNotFoundError:
            return None
        except OSError:
            return pid  # no /proc (macOS): trust the pid file
        return pid if str(self.config_file) in cmdline else None

    # daemon -------------------------------------------------------------------------
    def ensure_daemon(self) -> bool:
        """Start supervisord unless it answers; True when it was started. The daemon loads
        the include files present (so it starts the programs they describe) and keeps
        running after this process exits. :class:`OperationError` when it does not come up
        within :data:`DAEMON_START_TIMEOUT_S` (with the end of its log)."""
        with self._lock():
            return self._ensure_daemon()

    def _ensure_daemon(self) -> bool:
        if self.answers():
            return False
        stale = self.daemon_pid()
        if stale is not None:  # shutting down, or hung: let it finish first
            _wait_gone(stale, SHUTDOWN_TIMEOUT_S)
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        (self.config_dir / "programs").mkdir(parents=True, exist_ok=True)
        _write_if_changed(self.config_file, render_daemon_config(self.state_dir))
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        argv = [self.python, "-m", "supervisor.supervisord", "-c", str(self.config_file)]
        env = {"PATH": DEFAULT_PATH, "HOME": str(Path.home())}
        try:
            done = subprocess.run(
                argv,
                env=env,
                cwd=self.state_dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,
                timeout=DAEMON_START_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise self._daemon_error(f"supervisord could not be started: {exc}") from exc
        if done.returncode != 0:
            raise self._daemon_error(
                f"supervisord exited with {done.returncode}: {done.stdout.strip()[-2000:]}"
            )
        deadline = time.monotonic() + DAEMON_START_TIMEOUT_S
        while not self.answers():
            if time.monotonic() > deadline:
                raise self._daemon_error(
                    f"supervisord did not answer on {self.socket} within "
                    f"{DAEMON_START_TIMEOUT_S:.0f}s"
                )
            time.sleep(0.05)
        return True

    def _daemon_error(self, message: str) -> OperationError:
        tail = "\n".join(logs.tail(self.daemon_log, 20))
        return OperationError(
            message + (f"\n{tail}" if tail else ""),
            hint=f"see {self.daemon_log}; `baas down` then `baas up` starts it afresh",
        )

    def shutdown(self) -> bool:
        """Stop every program, then the daemon; wait until the daemon's process is gone.
        True when a daemon was running. Leaves the include files (a later
        :meth:`ensure_daemon` starts the same programs again)."""
        with self._lock():
            if not self.answers():
                pid = self.daemon_pid()
                if pid is None:
                    return False
                # this network's supervisord is alive but does not answer on its socket (the
                # socket was removed, or it hangs): stop it by signal — it stops its programs
                # first — rather than leave nodes running without a supervisor
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
                if not _wait_gone(pid, SHUTDOWN_TIMEOUT_S):
                    raise OperationError(
                        f"supervisord (pid {pid}) does not answer and did not exit on SIGTERM",
                        hint=f"see {self.daemon_log}; kill it with `kill -9 {pid}`",
                    )
                return True
            pid = self.daemon_pid()
            rpc = self._rpc(timeout=SHUTDOWN_TIMEOUT_S)
            with contextlib.suppress(xmlrpc.client.Fault):
                rpc.supervisor.stopAllProcesses(True)
            with contextlib.suppress(xmlrpc.client.Fault, OSError, http.client.HTTPException):
                rpc.supervisor.shutdown()
            if pid is not None and not _wait_gone(pid, SHUTDOWN_TIMEOUT_S):
                raise OperationError(
                    f"supervisord (pid {pid}) did not exit within {SHUTDOWN_TIMEOUT_S:.0f}s",
                    hint=f"see {self.daemon_log}; kill it with `kill {pid}`",
                )
            with contextlib.suppress(FileNotFoundError):
                self.socket.unlink()
            return True

    # programs -----------------------------------------------------------------------
    def ensure_programs(
        self,
        specs: Sequence[ProgramSpec],
        *,
        scope: str = "default",
        hold: Collection[str] = (),
    ) -> list[ProgramChange]:
        """Make the programs of ``scope`` exactly ``specs``, all running; return what changed
        (unchanged, running programs are absent from the list).

        Writes changed include files only, then applies the daemon's own diff
        (``reloadConfig``): added programs are added (and start), changed ones are stopped,
        replaced and started, removed ones stopped and removed; programs that are stopped,
        exited or FATAL are started. Programs of other scopes are left alone. Programs named
        in ``hold`` that already have an include file keep it for now, whether ``specs``
        changes them or leaves them out (a later call without them applies their change or
        removal: rolling restarts, see :meth:`pending`, and an old server that keeps serving
        beside its successor until the switch, see :meth:`existing`). Raises
        :class:`UsageError` for duplicate names or a name used by another scope.
        """
        if not _NAME.match(scope):
            raise UsageError(f"{scope!r} is not usable as a program scope")
        desired = {spec.name: render_program(spec) for spec in specs}
        if len(desired) != len(specs):
            raise UsageError("two programs share a name")
        with self._lock():
            self._check_scopes(desired, scope)
            directory = self.programs_dir(scope)
            directory.mkdir(parents=True, exist_ok=True)
            for spec in specs:
                spec.cwd.mkdir(parents=True, exist_ok=True)
                spec.log_file.parent.mkdir(parents=True, exist_ok=True)
            for path in directory.glob("*.conf"):
                if path.stem not in desired and path.stem not in hold:
                    path.unlink()
            for name, text in desired.items():
                if name in hold and (directory / f"{name}.conf").is_file():
                    continue
                _write_if_changed(directory / f"{name}.conf", text)
            if not desired and not self.answers():
                return []  # nothing to run and nothing running: no daemon needed
            fresh = self._ensure_daemon()
            return self._apply(desired, fresh=fresh)

    def existing(self, *, scope: str = "default") -> list[str]:
        """Names of the programs ``scope`` has an include file for (sorted). Reads only."""
        return sorted(path.stem for path in self.programs_dir(scope).glob("*.conf"))

    def pending(self, specs: Sequence[ProgramSpec], *, scope: str = "default") -> list[str]:
        """Names of the ``specs`` (in their order) whose program exists in ``scope`` with
        another configuration: those :meth:`ensure_programs` would restart. Reads only."""
        directory = self.programs_dir(scope)
        found = []
        for spec in specs:
            path = directory / f"{spec.name}.conf"
            if path.is_file() and path.read_text(encoding="utf-8") != render_program(spec):
                found.append(spec.name)
        return found

    def _check_scopes(self, desired: Mapping[str, str], scope: str) -> None:
        root = self.config_dir / "programs"
        for path in root.glob("*/*.conf"):
            if path.parent.name != scope and path.stem in desired:
                raise UsageError(
                    f"program {path.stem!r} already belongs to {path.parent.name!r}",
                    hint="give programs of different kinds distinct names",
                )

    def _apply(self, desired: Mapping[str, str], *, fresh: bool) -> list[ProgramChange]:
        rpc = self._rpc(timeout=SHUTDOWN_TIMEOUT_S)
        added, changed, removed = rpc.supervisor.reloadConfig()[0]
        changes: list[ProgramChange] = []
        self._stop_groups(rpc, [*removed, *changed])
        for name in removed:
            with contextlib.suppress(xmlrpc.client.Fault):
                rpc.supervisor.removeProcessGroup(name)
            changes.append(ProgramChange(name, "removed"))
        for name in changed:
            rpc.supervisor.removeProcessGroup(name)
            rpc.supervisor.addProcessGroup(name)
            changes.append(ProgramChange(name, "restarted"))
        for name in added:
            try:
                rpc.supervisor.addProcessGroup(name)
            except xmlrpc.client.Fault as exc:
                if _fault_code(exc) != _ALREADY_ADDED:
                    raise
            changes.append(ProgramChange(name, "added"))
        touched = {c.name for c in changes}
        states = {info["name"]: info["statename"] for info in rpc.supervisor.getAllProcessInfo()}
        for name in desired:
            if name in touched:
                continue
            if fresh:
                changes.append(ProgramChange(name, "started"))
            elif states.get(name) not in RUNNING_STATES:
                try:
                    rpc.supervisor.startProcess(name, False)
                except xmlrpc.client.Fault as exc:
                    if _fault_code(exc) != _ALREADY_STARTED:
                        raise
                changes.append(ProgramChange(name, "started"))
        return changes

    @classmethod
    def _stop_groups(cls, rpc: Any, names: list[str]) -> None:
        """Stop every group of ``names`` at once and wait until all have stopped: each gets
        SIGTERM together (a chaincode server's graceful shutdown takes about a second, which
        one after the other would add up), SIGKILL after ``stopwaitsecs`` as usual."""
        if len(names) < 2:
            for name in names:
                cls._stop_group(rpc, name)
            return
        for name in names:
            try:
                rpc.supervisor.stopProcessGroup(name, False)
            except xmlrpc.client.Fault as exc:
                if _fault_code(exc) not in (_BAD_NAME, _NOT_RUNNING):
                    raise
        deadline = time.monotonic() + STOP_WAIT_SECS + 5
        waiting = set(names)
        while waiting and time.monotonic() < deadline:
            states = {i["group"]: i["statename"] for i in rpc.supervisor.getAllProcessInfo()}
            waiting = {n for n in waiting if states.get(n) in (*RUNNING_STATES, "STOPPING")}
            if waiting:
                time.sleep(0.05)
        for name in waiting:  # still stopping after the deadline: wait for it as before
            cls._stop_group(rpc, name)

    @staticmethod
    def _stop_group(rpc: Any, name: str) -> None:
        try:
            rpc.supervisor.stopProcessGroup(name, True)
        except xmlrpc.client.Fault as exc:
            if _fault_code(exc) not in (_BAD_NAME, _NOT_RUNNING):
                raise

    def start(self, name: str, *, wait: bool = False) -> bool:
        """Start program ``name``; False when it already ran. ``wait`` blocks until it has
        stayed up ``startsecs`` (:class:`OperationError` if it dies first). Starts the daemon
        when needed."""
        self.ensure_daemon()
        try:
            self._rpc().supervisor.startProcess(name, wait)
        except xmlrpc.client.Fault as exc:
            if _fault_code(exc) == _ALREADY_STARTED:
                return False
            raise self._program_error(name, exc) from exc
        return True

    def stop(self, name: str) -> bool:
        """Stop program ``name`` (it stays stopped until started or ensured again); False when
        it was not running or no daemon runs."""
        if not self.answers():
            return False
        try:
            self._rpc(timeout=SHUTDOWN_TIMEOUT_S).supervisor.stopProcess(name, True)
        except xmlrpc.client.Fault as exc:
            if _fault_code(exc) == _NOT_RUNNING:
                return False
            raise self._program_error(name, exc) from exc
        return True

    def restart(self, name: str) -> None:
        """Stop (when running) and start program ``name``."""
        self.stop(name)
        self.start(name)

    def _program_error(self, name: str, exc: xmlrpc.client.Fault) -> OperationError:
        if _fault_code(exc) == _BAD_NAME:
            return OperationError(f"no program named {name!r}", hint="run `baas up` first")
        log = logs.log_path(self.state_dir, name)
        tail = "\n".join(logs.tail(log, 20))
        return OperationError(
            f"program {name}: {exc.faultString}" + (f"\n{tail}" if tail else ""),
            hint=f"see {log}",
        )

    def status(self) -> dict[str, ProgramState]:
        """Every program the daemon knows, by name; empty when no daemon runs (this never
        starts one)."""
        if not self.answers():
            return {}
        try:
            infos = self._rpc().supervisor.getAllProcessInfo()
        except (OSError, http.client.HTTPException):
            return {}
        return {info["name"]: _state(info) for info in infos}


def _state(info: Mapping[str, Any]) -> ProgramState:
    state = str(info["statename"])
    pid = int(info.get("pid") or 0) or None
    start, stop = float(info.get("start") or 0), float(info.get("stop") or 0)
    since = start if state in RUNNING_STATES or stop < start else stop
    return ProgramState(
        name=str(info["name"]),
        state=state,
        pid=pid if state in ("RUNNING", "STARTING", "STOPPING") else None,
        since=since or None,
        # supervisord reports 0 for "exited too quickly" (BACKOFF): only an exit it saw counts
        exit_status=int(info["exitstatus"] or 0)
        if state in ("EXITED", "STOPPED") and info.get("stop")
        else None,
        spawn_error=str(info.get("spawnerr") or ""),
        log_file=str(info.get("stdout_logfile") or ""),
    )


# ------------------------------------------------------------------------------ helpers


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return True


def _alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
