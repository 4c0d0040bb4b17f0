"""The README's command table matches the CLI: every command is listed, and every option a row
names exists on that command (so no removed or renamed spelling lingers there)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from baas.cli.app import app

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands() -> dict[str, Any]:
    """Every visible leaf command by path (``pki generate``)."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subs = getattr(command, "commands", None)
        if subs is None:
            found[" ".join(path)] = command
            return
        for name, sub in subs.items():
            if not sub.hidden:
                walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def _options(command: Any) -> set[str]:
    return {
        opt
        for param in command.params
        if param.param_type_name == "option" and not param.hidden
        for opt in (*param.opts, *param.secondary_opts)
    }


def _rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Commands\n") : text.index("### JSON output\n")]
    return [line for line in table.splitlines() if line.startswith("| `baas ")]


def _paths_of(row: str, known: dict[str, Any]) -> list[str]:
    first = row.split(" | ")[0]
    paths = []
    for usage in re.findall(r"`baas ([^`]+)`", first):
        words = usage.split()
        path = max((p for p in known if words[: len(p.split())] == p.split()), key=len, default="")
        assert path, f"unknown command in README: baas {usage}"
        paths.append(path)
    return paths


def test_every_command_is_in_the_table() -> None:
    known = _commands()
    listed = {path for row in _rows() for path in _paths_of(row, known)}
    assert listed == set(known)


def test_every_option_in_the_table_exists() -> None:
    known = _commands()
    for row in _rows():
        paths = _paths_of(row, known)
        allowed = set().union(*(_options(known[p]) for p in paths))
        spans = " ".join(re.findall(r"`([^`]+)`", row))
        named = set(re.findall(r"(?<![\w/-])(--[a-z][a-z-]*|-[a-z])\b", spans))
        assert named <= allowed, (paths, named - allowed)
