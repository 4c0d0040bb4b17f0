"""Console output shared by every command: a rich console on stderr for humans, stdout for data."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
import typer
from rich.console import Console

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout (for ``-o json``)."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def print_warnings(warnings: Any) -> None:
    """Show a topology's validation warnings on stderr, in ``validate``'s format, sorted by
    line."""
    for diag in sorted(warnings, key=lambda d: (d.file, d.line or 0, d.column or 0)):
        err.print(diag.render(), markup=False)


# typer >= 0.20 ships its own copy of click (``typer._click``) whose exceptions do not derive
# from click's: accept both families.
_EXITS: tuple[type[BaseException], ...] = (click.exceptions.Exit, typer.Exit)
_ABORTS: tuple[type[BaseException], ...] = (click.exceptions.Abort, typer.Abort, KeyboardInterrupt)
_CLICK_ERRORS: tuple[type[BaseException], ...] = (
    click.ClickException,
    getattr(typer, "TyperException", click.ClickException),
)


def report_error(exc: BaseException) -> int:
    """Print ``exc`` for a human and return the exit status. Never prints a traceback
    unless ``BAAS_DEBUG=1``."""
    from baas.errors import BaasError
    from topology.errors import TopologyError

    if isinstance(exc, TopologyError):
        for diag in exc.diagnostics:
            err.print(diag.render(), markup=False)
        n = len(exc.errors)
        err.print(f"{n} error{'s' if n != 1 else ''}; nothing was changed.", markup=False)
        return 2
    if isinstance(exc, BaasError):
        err.print(f"error: {exc.message}", markup=False)
        if exc.hint:
            err.print(f"  hint: {exc.hint}", markup=False)
        return exc.exit_code
    if isinstance(exc, _EXITS):
        return int(getattr(exc, "exit_code", 0) or 0)
    if isinstance(exc, _CLICK_ERRORS):  # bad flags, missing arguments, unknown commands
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err.print(f"error: {exc}", markup=False)
        return int(getattr(exc, "exit_code", 2))
    if isinstance(exc, _ABORTS):
        err.print("aborted", markup=False)
        return 130
    if os.environ.get("BAAS_DEBUG") == "1":
        raise exc
    err.print(f"internal error: {type(exc).__name__}: {exc}", markup=False)
    err.print("  hint: re-run with BAAS_DEBUG=1 for a traceback and report it", markup=False)
    return 1
