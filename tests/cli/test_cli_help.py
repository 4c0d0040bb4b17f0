"""``--help`` of every command: free of markup, reST backticks, ANSI codes and ``<bool>``
metavars; paragraphs re-flowed (no ragged hard-wrapped lines); each ending with one example;
and, for the commands of ``baas/cli`` (not the REST API's ``serve`` and ``token``, nor the
root's list of every command), equal to the snapshot under ``tests/cli/help/``
(``BAAS_UPDATE_HELP=1`` rewrites the snapshots)."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from baas.cli.app import app

SNAPSHOTS = Path(__file__).parent / "help"
WIDTH = 100
"""Terminal width of the snapshots (``COLUMNS``); click's formatter then wraps at 98."""
NOT_OURS = ("serve", "token")
"""Commands of the REST API (``baas/cli/api_cmds.py``): checked, but not snapshotted."""

Cli = Callable[..., Any]


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            yield from _paths(sub, (*prefix, name))


PATHS = list(_paths(typer.main.get_command(app)))
OURS = [p for p in PATHS if not p or p[0] not in NOT_OURS]
SNAPSHOTTED = [p for p in OURS if p]
"""Not ``baas --help`` itself: it lists ``serve`` and ``token`` too."""


def _help(cli: Cli, path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    result = cli(*path, "--help")
    assert result.code == 0, result.text
    assert result.err == ""
    text: str = result.out
    return text


def _description(text: str) -> list[str]:
    """The help's lines between the usage line and the first section (Options:, ...)."""
    lines = text.splitlines()
    end = next((i for i, line in enumerate(lines) if re.match(r"^[A-Z][a-z]+:$", line)), len(lines))
    return lines[1:end]


def _name(path: tuple[str, ...]) -> str:
    return "-".join(("baas", *path))


def test_every_command_is_covered() -> None:
    names = {" ".join(p) for p in PATHS}
    assert {"validate", "plan", "up", "pki generate", "fabric list", "render", "smoke"} <= names
    assert len(OURS) >= 20


@pytest.mark.parametrize("path", PATHS, ids=[_name(p) for p in PATHS])
def test_help_reads_cleanly(
    path: tuple[str, ...], cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _help(cli, path, monkeypatch)
    assert "<bool>" not in text
    assert "``" not in text
    assert "\x1b[" not in text
    assert not re.search(r"\[/?(bold|green|red|yellow|cyan|dim)\b", text), text
    assert not re.search(r":[a-z_]+:", text.replace("https://", "")), text  # no emoji codes
    assert all(len(line) <= WIDTH for line in text.splitlines())


@pytest.mark.parametrize("path", PATHS, ids=[_name(p) for p in PATHS])
def test_no_ragged_lines(path: tuple[str, ...], cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within a paragraph of the description, a line is broken only where the next word would
    not have fitted (as a re-flowed paragraph is), so no line is a leftover of a docstring's
    own wrapping."""
    lines = _description(_help(cli, path, monkeypatch))
    for line, following in itertools.pairwise(lines):
        if not line.strip() or not following.strip() or line.strip().startswith("Example:"):
            continue
        next_word = following.split()[0]
        assert len(line) + 1 + len(next_word) > WIDTH - 2, f"ragged: {line!r} / {following!r}"


@pytest.mark.parametrize("path", OURS, ids=[_name(p) for p in OURS])
def test_help_ends_with_one_example(
    path: tuple[str, ...], cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [line.strip() for line in _description(_help(cli, path, monkeypatch)) if line.strip()]
    examples = [line for line in lines if line.startswith("Example:")]
    assert len(examples) == 1, lines
    assert lines[-1] == examples[0]
    assert lines[-1].startswith(" ".join(("Example: baas", *path[:1])))


@pytest.mark.parametrize("path", SNAPSHOTTED, ids=[_name(p) for p in SNAPSHOTTED])
def test_help_snapshot(path: tuple[str, ...], cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _help(cli, path, monkeypatch)
    snapshot = SNAPSHOTS / f"{_name(path)}.txt"
    if os.environ.get("BAAS_UPDATE_HELP") == "1":
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.is_file(), f"no snapshot {snapshot}: run with BAAS_UPDATE_HELP=1"
    assert text == snapshot.read_text(encoding="utf-8")


def test_deprecated_spellings_are_hidden(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not re.search(r"--out\b(?!put)", _help(cli, ("pki", "generate"), monkeypatch))
    render = _help(cli, ("render",), monkeypatch)
    assert "--secrets-mode" not in render and not re.search(r"(?<![\w-])-f\b", render)
    assert "--json" not in _help(cli, ("smoke",), monkeypatch)


def test_root_help_offers_completion(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _help(cli, (), monkeypatch)
    assert "--install-completion" in text and "--show-completion" in text
