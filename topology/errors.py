"""Diagnostics: every problem found in a topology file, with where it is and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``path`` is the field path (``spec.organizations[1].mspId``); empty for the
    whole document. ``line``/``column`` are 1-based when known, else ``None``."""

    severity: Severity
    file: str
    path: str
    message: str
    hint: str = ""
    line: int | None = None
    column: int | None = None

    @property
    def location(self) -> str:
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.column or 1}"

    def render(self) -> str:
        """Human text: ``file:line:col: error: path: message`` then ``  fix: hint``."""
        where = f"{self.path}: " if self.path else ""
        text = f"{self.location}: {self.severity}: {where}{self.message}"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "file": self.file,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }


def by_position(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """``diagnostics`` in reading order: by file, then line, then column. Those without a line
    (whole-file problems, or a path the file does not spell out) come first in their file;
    equal positions keep their order (the sort is stable)."""
    return sorted(diagnostics, key=lambda d: (d.file, d.line or 0, d.column or 0))


class TopologyError(Exception):
    """The file could not be accepted. ``diagnostics`` holds every error (and the warnings
    found before the errors stopped validation)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        first = self.errors[0].render() if self.errors else "invalid topology"
        super().__init__(first)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]
