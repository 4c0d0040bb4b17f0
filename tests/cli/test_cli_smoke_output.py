"""``baas smoke``'s text output as a reader meets it: the report (header, one line per check,
load summaries, the verdict) is one document on stdout, in order, however stdout and stderr are
captured; load progress goes to stderr, and when stderr is not a terminal a progress line is
printed only when it says something new and at most every few seconds of the probe's clock.

``baas.services.smoke`` is replaced by a fake that reports fixed checks and load ticks, so no
network runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from baas import services
from baas.services.results import Outcome
from baas.smoke.load import LoadOptions, LoadResult
from baas.smoke.report import CheckResult, SmokeReport

TWO_ORGS = str(Path(__file__).resolve().parents[2] / "examples" / "two-orgs.yaml")

CHECKS = (
    CheckResult("nodes healthy", "passed", 0.25, "4 nodes"),
    CheckResult("channel membership", "passed", 0.5, "2 peers"),
)


def _tick(second: float, committed: int, failed: int = 0) -> LoadResult:
    result = LoadResult("two-orgs", "mychannel", LoadOptions(duration=30))
    result.seconds = second
    result.committed = committed
    result.failed = Counter({"timeout": failed} if failed else {})
    result.timeline = [(second, committed)]
    return result


def _fake(ticks: list[LoadResult]) -> Callable[..., Outcome[Any]]:
    def smoke(
        loaded: Any,
        *,
        on_check: Callable[[CheckResult], None] | None = None,
        on_load: Callable[[LoadResult], None] | None = None,
        target: str = "local",
        **_: Any,
    ) -> Outcome[Any]:
        for check in CHECKS:
            if on_check is not None:
                on_check(check)
        for tick in ticks:
            if on_load is not None:
                on_load(tick)
        report = SmokeReport(loaded.network.metadata.name, target, CHECKS)
        return Outcome("SmokeReport", report, loaded.warnings)

    return smoke


def test_the_report_is_one_document_on_stdout_from_header_to_verdict(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "smoke", _fake([]))
    result = cli("smoke", TWO_ORGS)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"baas smoke {TWO_ORGS} → local"
    assert [line.split()[0] for line in lines[1:3]] == ["PASS", "PASS"]
    assert lines[-1].startswith("smoke ") and " passed: 2 passed in " in lines[-1]
    assert result.out.endswith("\n")
    assert "baas smoke" not in result.err


def test_piped_load_progress_prints_only_new_lines_every_few_seconds(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # stalled for 4 ticks, then moving every second, then stalled again
    ticks = [_tick(s, 0) for s in (1, 2, 3, 4)]
    ticks += [_tick(s, 10 * (s - 4)) for s in range(5, 16)]
    ticks += [_tick(s, 110) for s in (16, 17, 18, 19, 20, 21, 22)]
    monkeypatch.setattr(services, "smoke", _fake(ticks))
    result = cli("smoke", TWO_ORGS, "--load")
    progress = [line for line in result.err.splitlines() if "load mychannel" in line]
    assert progress == [
        "  load mychannel: 0 committed, 0 failed",
        "  load mychannel: 20 committed, 0 failed",
        "  load mychannel: 70 committed, 0 failed",
        "  load mychannel: 110 committed, 0 failed",
    ]
    assert len(set(progress)) == len(progress)


def test_on_a_terminal_every_load_tick_prints(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from baas.cli import runtime_cmds

    ticks = [_tick(s, 10 * s) for s in (1, 2, 3)]
    monkeypatch.setattr(services, "smoke", _fake(ticks))
    monkeypatch.setattr(runtime_cmds, "_stderr_is_terminal", lambda: True)
    result = cli("smoke", TWO_ORGS, "--load")
    progress = [line for line in result.err.splitlines() if "load mychannel" in line]
    assert len(progress) == 3
