"""Console output shared by every command: one rich console on stderr for humans, stdout for data."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from rich.console import Console

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout (for ``-o json``)."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


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
    if isinstance(exc, click.exceptions.Exit):
        return int(exc.exit_code)
    if isinstance(exc, click.ClickException):
        exc.show()
        return 2
    if isinstance(exc, click.exceptions.Abort | KeyboardInterrupt):
        err.print("aborted", markup=False)
        return 130
    if os.environ.get("BAAS_DEBUG") == "1":
        raise exc
    err.print(f"internal error: {type(exc).__name__}: {exc}", markup=False)
    err.print("  hint: re-run with BAAS_DEBUG=1 for a traceback and report it", markup=False)
    return 1
