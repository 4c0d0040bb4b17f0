"""Console output shared by every command: a rich console on stderr for people, stdout for data.

Nothing here rewrites what the user wrote: both consoles are created with ``emoji=False`` (so a
location like ``big.yaml:100:7`` or a policy naming ``:smile:`` prints as written) and
``markup=False`` (so ``[bold]`` in a file name is text). Styled words are built as
:class:`rich.text.Text` by :func:`styled`, never by interpolating user text into markup.

Colour follows the environment: none when ``NO_COLOR`` is set (to anything non-empty) or when
the stream is not a terminal (rich's own detection; ``FORCE_COLOR`` forces it).
:func:`configure` re-reads the environment; :func:`baas.cli.app.main` calls it once per
invocation, together with :func:`set_json_mode` from :func:`requested_json`.

Errors become exit statuses in one place, :func:`report_error`: as text on stderr, or, when the
invocation asked for ``-o json``, as one ``{"kind": "Error", ...}`` document on stdout.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click
import typer
from rich.console import Console
from rich.text import Text

from topology.errors import Diagnostic, by_position

API_VERSION = "baas/v1alpha1"
"""The ``apiVersion`` of every JSON document (that of :mod:`baas.services.results`)."""


def make_console(*, stderr: bool) -> Console:
    """A console that prints text as given: no emoji codes, no markup, no highlighting, no
    colour under ``NO_COLOR``; long lines are not wrapped (``soft_wrap``)."""
    no_color = os.environ.get("NO_COLOR", "") != ""
    return Console(
        stderr=stderr,
        emoji=False,
        markup=False,
        highlight=False,
        soft_wrap=True,
        color_system=None if no_color else "auto",
        no_color=no_color,
    )


err = make_console(stderr=True)
out = make_console(stderr=False)
_json_mode = False


def configure() -> None:
    """Create both consoles again, so that ``NO_COLOR``, ``FORCE_COLOR`` and the streams of this
    invocation (not those at import time) apply."""
    global err, out
    err = make_console(stderr=True)
    out = make_console(stderr=False)


def set_json_mode(enabled: bool) -> None:
    """Record whether this invocation asked for ``-o json`` (errors then print as JSON)."""
    global _json_mode
    _json_mode = enabled


def json_mode() -> bool:
    """True when this invocation asked for ``-o json``."""
    return _json_mode


def requested_json(argv: Sequence[str]) -> bool:
    """Whether ``argv`` asks for JSON output: ``-o json``, ``-ojson``, ``--output json``,
    ``--output=json`` or smoke's deprecated ``--json``. The last format given wins, as it does
    for the option itself; nothing after ``--`` counts (those are arguments, e.g. a chaincode
    function's)."""
    wanted = False
    items = list(argv)
    for i, arg in enumerate(items):
        if arg == "--":
            break
        if arg == "--json":
            wanted = True
        elif arg in ("-o", "--output"):
            wanted = i + 1 < len(items) and items[i + 1] == "json"
        elif arg.startswith("--output="):
            wanted = arg.removeprefix("--output=") == "json"
        elif arg.startswith("-o") and not arg.startswith("--"):
            wanted = arg.removeprefix("-o").removeprefix("=") == "json"
    return wanted


# ------------------------------------------------------------------------------ writing


def document(
    kind: str, body: dict[str, Any], warnings: Iterable[Diagnostic] = ()
) -> dict[str, Any]:
    """A JSON document in the shape every service's ``Outcome.to_dict()`` has: ``kind``,
    ``apiVersion``, the ``body``'s keys, then ``warnings`` (for results the CLI assembles
    itself, such as ``validate``'s report or ``logs``)."""
    return {
        "kind": kind,
        "apiVersion": API_VERSION,
        **body,
        "warnings": [w.to_dict() for w in by_position(warnings)],
    }


def print_json(data: Any) -> None:
    """Write ``data`` as one indented JSON document to stdout (for ``-o json``). Non-ASCII text
    is written as is (UTF-8), paths and dates via ``str``."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def styled(word: str, style: str, rest: str = "") -> Text:
    """``word`` in ``style`` followed by ``rest`` as plain text (never parsed as markup)."""
    return Text.assemble((word, style), rest)


def ok(message: str) -> None:
    """``ok <message>`` on stderr, ``ok`` in green."""
    err.print(styled("ok", "green", f" {message}"))


def done(message: str = "") -> None:
    """``done`` (then ``message``) on stderr, ``done`` in green."""
    err.print(styled("done", "green", message))


def note(message: str) -> None:
    """A plain line for people on stderr."""
    err.print(Text(message))


def warn(message: str) -> None:
    """``warning: <message>`` on stderr, in every output format (stderr is never data)."""
    err.print(styled("warning:", "yellow", f" {message}"))


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    """Every diagnostic in ``validate``'s format (``file:line:col: severity: path: message``,
    then ``  fix: hint``) on stderr, sorted by file, line and column."""
    for diag in by_position(diagnostics):
        err.print(Text(diag.render()))


def print_warnings(warnings: Iterable[Diagnostic]) -> None:
    """Show a topology's validation warnings once, on stderr, in ``validate``'s format, sorted
    by line. Silent in JSON mode: the document's ``warnings`` carry them."""
    if not _json_mode:
        print_diagnostics(warnings)


# ------------------------------------------------------------------------------ errors

# typer >= 0.20 ships its own copy of click (``typer._click``) whose exceptions do not derive
# from click's: accept both families.
_EXITS: tuple[type[BaseException], ...] = (click.exceptions.Exit, typer.Exit)
_ABORTS: tuple[type[BaseException], ...] = (click.exceptions.Abort, typer.Abort, KeyboardInterrupt)
_CLICK_ERRORS: tuple[type[BaseException], ...] = (
    click.ClickException,
    getattr(typer, "TyperException", click.ClickException),
)
DEBUG_HINT = "re-run with BAAS_DEBUG=1 for a traceback and report it"


def error_document(
    message: str, *, hint: str = "", diagnostics: Iterable[Diagnostic] = ()
) -> dict[str, Any]:
    """The ``-o json`` form of an error: ``kind`` ``Error``, ``apiVersion``, ``message``,
    ``hint`` and ``diagnostics`` (each as ``validate -o json`` prints it, sorted by line)."""
    return {
        "kind": "Error",
        "apiVersion": API_VERSION,
        "message": message,
        "hint": hint,
        "diagnostics": [d.to_dict() for d in by_position(diagnostics)],
    }


def report_error(exc: BaseException, *, as_json: bool | None = None) -> int:
    """Print ``exc`` and return the exit status: 2 for bad input (topology errors, usage
    errors, bad flags), the error's own status otherwise, 130 when interrupted. As text on
    stderr, or as one :func:`error_document` on stdout when ``as_json`` (default: whether this
    invocation asked for ``-o json``). ``typer.Exit`` is not an error: its status is returned
    and nothing is printed. Never prints a traceback unless ``BAAS_DEBUG=1`` (then an
    unexpected exception is re-raised)."""
    from baas.errors import BaasError
    from topology.errors import TopologyError

    use_json = _json_mode if as_json is None else as_json
    if isinstance(exc, _EXITS):
        return int(getattr(exc, "exit_code", 0) or 0)
    if isinstance(exc, TopologyError):
        n = len(exc.errors)
        message = f"{n} error{'s' if n != 1 else ''}; nothing was changed."
        return _emit(2, message, "", exc.diagnostics, use_json)
    if isinstance(exc, BaasError):
        return _emit(exc.exit_code, exc.message, exc.hint, (), use_json)
    if isinstance(exc, _CLICK_ERRORS):  # bad flags, missing arguments, unknown commands
        return _click_error(exc, use_json)
    if isinstance(exc, _ABORTS):
        return _emit(130, "aborted", "", (), use_json, prefix="")
    if os.environ.get("BAAS_DEBUG") == "1":
        raise exc
    message = f"internal error: {type(exc).__name__}: {exc}"
    return _emit(1, message, DEBUG_HINT, (), use_json, prefix="")


def _emit(
    code: int,
    message: str,
    hint: str,
    diagnostics: Iterable[Diagnostic],
    use_json: bool,
    *,
    prefix: str = "error: ",
) -> int:
    diags = list(diagnostics)
    if use_json:
        print_json(error_document(message, hint=hint, diagnostics=diags))
        return code
    if diags:
        print_diagnostics(diags)
        err.print(Text(message))
    else:
        err.print(Text(f"{prefix}{message}"))
    if hint:
        err.print(Text(f"  hint: {hint}"))
    return code


def _click_error(exc: BaseException, use_json: bool) -> int:
    code = int(getattr(exc, "exit_code", 2))
    if not use_json:
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err.print(Text(f"error: {exc}"))
        return code
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", "") or "baas"
    print_json(error_document(message, hint=f"see `{path} --help`"))
    return code
