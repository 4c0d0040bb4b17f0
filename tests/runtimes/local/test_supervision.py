"""Supervision of local programs by a real supervisord, with small Python programs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from baas.errors import UsageError
from baas.runtimes.local import logs
from baas.runtimes.local.supervision import (
    DEFAULT_PATH,
    ProgramChange,
    ProgramSpec,
    Supervisor,
    render_daemon_config,
    render_program,
    socket_path,
)

pytestmark = pytest.mark.timeout(180)

WAIT_S = 60.0  # an upper bound so a broken daemon fails the test instead of hanging it

# Writes the environment it was exec'd with (not os.environ: Python may add LC_CTYPE), prints
# a line, then sleeps until stopped.
PROGRAM = (
    "import sys, time; "
    "open(sys.argv[1], 'wb').write(open('/proc/self/environ', 'rb').read()); "
    "print('hello from', sys.argv[2], flush=True); "
    "time.sleep(3600)"
)


def spec(tmp: Path, name: str, **env: str) -> ProgramSpec:
    return ProgramSpec(
        name=name,
        argv=(sys.executable, "-c", PROGRAM, str(tmp / f"{name}.environ"), name),
        env=env,
        cwd=tmp / "work" / name,
        log_file=logs.log_path(tmp / "state", name),
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def wait_for(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def environ_of(tmp: Path, name: str) -> dict[str, str]:
    raw = (tmp / f"{name}.environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if item)


@pytest.fixture
def sup(tmp_path: Path) -> Iterator[Supervisor]:
    supervisor = Supervisor(tmp_path / "state")
    seen: set[int] = set()
    try:
        yield supervisor
    finally:
        seen |= {s.pid for s in supervisor.status().values() if s.pid}
        daemon = supervisor.daemon_pid()
        supervisor.shutdown()
        leftovers = [pid for pid in [*seen, daemon] if pid is not None and alive(pid)]
        for pid in leftovers:  # never leave a process behind, even when the test failed
            os.kill(pid, signal.SIGKILL)
        assert not leftovers, f"processes left after shutdown: {leftovers}"


def running_pids(sup: Supervisor) -> dict[str, int]:
    return {name: s.pid for name, s in sup.status().items() if s.running and s.pid}


def wait_running(sup: Supervisor, *names: str) -> dict[str, int]:
    wait_for(f"{names} running", lambda: set(names) <= set(running_pids(sup)))
    return running_pids(sup)


# ------------------------------------------------------------------------------ pure


def test_program_file_escapes_percent_and_clears_the_environment(tmp_path: Path) -> None:
    text = render_program(spec(tmp_path, "p", GREETING="100%", JSON='{"a":"b c"}'))
    assert "[program:p]" in text
    command = next(line for line in text.splitlines() if line.startswith("command = "))
    assert " -i " in command
    assert "GREETING=100%%" in command
    assert '\'JSON={"a":"b c"}\'' in command
    assert "autorestart = true" in text and "stopasgroup = true" in text
    assert "killasgroup = true" in text and "redirect_stderr = true" in text


@pytest.mark.parametrize(
    "env",
    [{"X": "a\nb"}, {"X": "value ; comment"}, {"X": "value #comment"}, {"BAD-NAME": "x"}],
)
def test_values_supervisord_cannot_carry_are_refused(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(UsageError):
        spec(tmp_path, "p", **env)


@pytest.mark.parametrize("name", ["has space", "a:b", "a/b", ""])
def test_bad_program_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError):
        spec(tmp_path, name)


def test_relative_argv0_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        ProgramSpec("p", ("python3",), {}, tmp_path, tmp_path / "p.log")


def test_socket_moves_to_tmp_when_the_state_path_is_too_long(tmp_path: Path) -> None:
    short = tmp_path / "s"
    assert socket_path(short) == short / "supervisor.sock"
    deep = tmp_path / ("x" * 120)
    moved = socket_path(deep)
    assert moved.parent == Path("/tmp") and len(str(moved)) < 100
    assert socket_path(deep) == moved  # stable: every baas process finds the same daemon
    assert f"file = {moved}" in render_daemon_config(deep)


# ------------------------------------------------------------------------------ daemon


def test_programs_start_with_exactly_their_environment(
    sup: Supervisor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORE_PEER_ADDRESS", "leaked:7051")  # the caller's env must not leak
    changes = sup.ensure_programs([spec(tmp_path, "a", ONE="1"), spec(tmp_path, "b", TWO="2")])
    assert sorted(changes, key=lambda c: c.name) == [
        ProgramChange("a", "started"),
        ProgramChange("b", "started"),
    ]
    wait_running(sup, "a", "b")
    wait_for("a's environment", lambda: (tmp_path / "a.environ").is_file())
    assert environ_of(tmp_path, "a") == {"ONE": "1", "PATH": DEFAULT_PATH, "HOME": str(Path.home())}
    wait_for("a's log", lambda: "hello from a" in "\n".join(logs.tail(sup_log(sup, "a"))))


def sup_log(sup: Supervisor, name: str) -> Path:
    return logs.log_path(sup.state_dir, name)


def test_rerun_changes_nothing_and_env_change_restarts_only_that_program(
    sup: Supervisor, tmp_path: Path
) -> None:
    sup.ensure_programs([spec(tmp_path, "a", V="1"), spec(tmp_path, "b", V="1")])
    before = wait_running(sup, "a", "b")

    assert sup.ensure_programs([spec(tmp_path, "a", V="1"), spec(tmp_path, "b", V="1")]) == []
    assert running_pids(sup) == before

    changes = sup.ensure_programs([spec(tmp_path, "a", V="2"), spec(tmp_path, "b", V="1")])
    assert changes == [ProgramChange("a", "restarted")]
    after = wait_running(sup, "a", "b")
    assert after["b"] == before["b"]
    assert after["a"] != before["a"] and not alive(before["a"])
    wait_for("a's new environment", lambda: environ_of(tmp_path, "a").get("V") == "2")


def test_held_programs_keep_running_until_released(sup: Supervisor, tmp_path: Path) -> None:
    """Rolling restarts: ``pending`` names the changed programs, ``hold`` defers them."""
    sup.ensure_programs([spec(tmp_path, "a", V="1"), spec(tmp_path, "b", V="1")])
    before = wait_running(sup, "a", "b")
    changed = [spec(tmp_path, "a", V="2"), spec(tmp_path, "b", V="2")]
    assert sup.pending(changed) == ["a", "b"]

    assert sup.ensure_programs(changed, hold=["b"]) == [ProgramChange("a", "restarted")]
    after = wait_running(sup, "a", "b")
    assert after["b"] == before["b"] and after["a"] != before["a"]
    assert sup.pending(changed) == ["b"]

    assert sup.ensure_programs(changed) == [ProgramChange("b", "restarted")]
    assert wait_running(sup, "a", "b")["b"] != before["b"]
    assert sup.pending(changed) == []


def test_sigkilled_program_is_restarted(sup: Supervisor, tmp_path: Path) -> None:
    sup.ensure_programs([spec(tmp_path, "a")])
    first = wait_running(sup, "a")["a"]
    os.kill(first, signal.SIGKILL)
    wait_for("a restarted", lambda: running_pids(sup).get("a") not in (None, first))
    assert not alive(first)


def test_removed_program_is_stopped_and_stopped_program_is_started_again(
    sup: Supervisor, tmp_path: Path
) -> None:
    sup.ensure_programs([spec(tmp_path, "a"), spec(tmp_path, "b")])
    pids = wait_running(sup, "a", "b")

    assert sup.ensure_programs([spec(tmp_path, "a")]) == [ProgramChange("b", "removed")]
    assert not alive(pids["b"])
    assert set(sup.status()) == {"a"}

    assert sup.stop("a") is True
    assert not alive(pids["a"])
    assert sup.stop("a") is False
    assert sup.ensure_programs([spec(tmp_path, "a")]) == [ProgramChange("a", "started")]
    wait_running(sup, "a")


def test_scopes_do_not_touch_each_other(sup: Supervisor, tmp_path: Path) -> None:
    sup.ensure_programs([spec(tmp_path, "node")], scope="nodes")
    sup.ensure_programs([spec(tmp_path, "cc")], scope="chaincodes")
    pids = wait_running(sup, "node", "cc")
    assert sup.ensure_programs([], scope="chaincodes") == [ProgramChange("cc", "removed")]
    assert running_pids(sup) == {"node": pids["node"]}
    with pytest.raises(UsageError, match="already belongs"):
        sup.ensure_programs([spec(tmp_path, "node")], scope="chaincodes")


def test_daemon_outlives_the_process_that_started_it(sup: Supervisor, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from baas.runtimes.local.supervision import Supervisor\n"
        "print(Supervisor(Path(sys.argv[1])).ensure_daemon())\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", script, str(sup.state_dir)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=True,
    )
    assert done.stdout.strip() == "True"
    assert sup.answers()
    assert sup.ensure_daemon() is False  # already there: not started twice


def test_shutdown_stops_programs_and_daemon(sup: Supervisor, tmp_path: Path) -> None:
    sup.ensure_programs([spec(tmp_path, "a"), spec(tmp_path, "b")])
    pids = wait_running(sup, "a", "b")
    daemon = sup.daemon_pid()
    assert daemon is not None
    assert sup.shutdown() is True
    assert not alive(daemon)
    assert not any(alive(pid) for pid in pids.values())
    assert sup.status() == {}
    assert sup.shutdown() is False
    # the include files stay: a new daemon brings the same programs back
    assert sup.ensure_daemon() is True
    wait_running(sup, "a", "b")


def test_shutdown_stops_a_daemon_that_lost_its_socket(sup: Supervisor, tmp_path: Path) -> None:
    """A daemon that no longer answers (its socket removed) is stopped by signal, its
    programs with it, instead of being left running without a supervisor."""
    sup.ensure_programs([spec(tmp_path, "a")])
    pids = wait_running(sup, "a")
    daemon = sup.daemon_pid()
    assert daemon is not None
    sup.socket.unlink()
    assert not sup.answers()
    assert sup.shutdown() is True
    assert not alive(daemon)
    assert not any(alive(pid) for pid in pids.values())


def test_status_and_stop_never_start_a_daemon(sup: Supervisor) -> None:
    assert sup.status() == {}
    assert sup.stop("anything") is False
    assert not sup.answers()
    assert sup.daemon_pid() is None


# ------------------------------------------------------------------------------ logs


def test_tail_and_follow(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    assert logs.tail(path) == []
    path.write_text("".join(f"line {i}\n" for i in range(5000)))
    assert logs.tail(path, 3) == ["line 4997", "line 4998", "line 4999"]
    assert logs.tail(path, 0) == []

    small = tmp_path / "y.log"
    small.write_text("a\nb\npartial")
    lines: list[str] = []
    stream = logs.follow(small, stop=lambda: len(lines) >= 4)
    for line in stream:
        lines.append(line)
        if line == "b":
            with small.open("a") as handle:
                handle.write(" line\nc\n")
        if line == "c":  # rotation: a new file at the same path
            small.rename(tmp_path / "y.log.1")
            small.write_text("d\n")
    assert lines == ["a", "b", "partial line", "c", "d"]
