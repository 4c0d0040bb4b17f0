"""Smoke results: one :class:`CheckResult` per check, a :class:`SmokeReport` per run, and their
text (``PASS  name  1.23s  message``) and JSON forms. Pure; shared by every target."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from baas.errors import BaasError

Status = Literal["passed", "failed", "skipped"]
OnCheck = Callable[["CheckResult"], None]

_MARK = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict. ``message`` says what was found (on failure: what Kubernetes, Fabric
    or helm said, possibly several lines); ``hint`` what to try; ``seconds`` is wall time
    (0 for skipped checks)."""

    name: str
    status: Status
    seconds: float
    message: str = ""
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class SmokeReport:
    """Every check of one run, in order. ``passed`` when no check failed and at least one
    passed: a check is skipped either because one it depends on failed (so the report fails
    anyway) or because it does not apply (a single-organisation channel has no "too weak"
    endorsement), which is no failure."""

    network: str
    target: str
    checks: tuple[CheckResult, ...]
    load: tuple[Any, ...] = ()
    """Load probe results (:class:`baas.smoke.load.LoadResult`), when one was asked for."""

    @property
    def passed(self) -> bool:
        return any(c.passed for c in self.checks) and not any(
            c.status == "failed" for c in self.checks
        )

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.checks)

    def counts(self) -> dict[Status, int]:
        counts: dict[Status, int] = {"passed": 0, "failed": 0, "skipped": 0}
        for check in self.checks:
            counts[check.status] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document: ``network``, ``target``, ``passed``, ``seconds``,
        ``counts`` and ``checks`` (each :meth:`CheckResult.to_dict`)."""
        return {
            "network": self.network,
            "target": self.target,
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "counts": dict(self.counts()),
            "checks": [c.to_dict() for c in self.checks],
            "load": [result.to_dict() for result in self.load],
        }

    def summary(self) -> str:
        counts = self.counts()
        parts = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        verdict = "passed" if self.passed else "FAILED"
        return f"smoke {self.network} ({self.target}): {verdict}: {parts or 'no checks'} in " + (
            f"{self.seconds:.1f}s"
        )


def format_check(check: CheckResult, *, width: int = 28) -> list[str]:
    """Text lines of one check: ``PASS  name  1.23s  first line of the message``, then further
    message lines and the hint (failed and skipped checks) indented below. Pure."""
    lines = (check.message or "").splitlines() or [""]
    head = f"{_MARK[check.status]}  {check.name:<{width}} {check.seconds:7.2f}s  {lines[0]}"
    out = [head.rstrip()]
    out += [f"      {line}".rstrip() for line in lines[1:]]
    if check.hint and not check.passed:
        out.append(f"      hint: {check.hint}")
    return out


def format_report(report: SmokeReport) -> list[str]:
    """Text lines of a whole report: each check (:func:`format_check`) and a summary. Pure."""
    width = max((len(c.name) for c in report.checks), default=0)
    lines = [line for c in report.checks for line in format_check(c, width=width)]
    return [*lines, report.summary()]


class CheckFailed(Exception):
    """Raised inside a check body: the check fails with this message and hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class CheckSkipped(Exception):
    """Raised inside a check body that finds it does not apply: the check is skipped with
    this reason (no failure)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def run_check(name: str, body: Callable[[], str]) -> CheckResult:
    """Time ``body``; its return value is the pass message. :class:`CheckFailed` and baas errors
    (Fabric's refusals included) give a failed result, :class:`CheckSkipped` a skipped one;
    anything else propagates."""
    started = time.monotonic()
    try:
        message = body()
    except CheckSkipped as exc:
        return skipped(name, exc.reason)
    except (CheckFailed, BaasError) as exc:
        return CheckResult(name, "failed", time.monotonic() - started, exc.message, exc.hint)
    return CheckResult(name, "passed", time.monotonic() - started, message)


def skipped(name: str, reason: str) -> CheckResult:
    return CheckResult(name, "skipped", 0.0, reason)
