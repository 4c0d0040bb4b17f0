"""The ``baas`` command line: a thin layer over :mod:`baas.services`.

Every sub-command lives in its own module under ``baas.cli`` and is registered here.
Errors derived from :class:`baas.errors.BaasError` (and topology errors) are printed without a
traceback; bad input exits 2.
"""

from __future__ import annotations

import sys

import typer

from baas import __version__
from baas.cli import output

app = typer.Typer(
    name="baas",
    help="Deploy Hyperledger Fabric networks from one declarative topology file.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"baas {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """Deploy Hyperledger Fabric networks from one declarative topology file."""


def _register() -> None:
    from baas.cli import (
        chaincode_cmds,
        fabric_cmds,
        kube_cmds,
        pki_cmds,
        runtime_cmds,
        topology_cmds,
    )

    for module in (topology_cmds, pki_cmds, runtime_cmds, chaincode_cmds, kube_cmds, fabric_cmds):
        module.register(app)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status instead of raising (used by tests and the script)."""
    try:
        result = app(args=argv, prog_name="baas", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    except BaseException as exc:  # the one place errors become exit codes
        return output.report_error(exc)
    return result if isinstance(result, int) else 0


def run() -> None:  # pragma: no cover
    sys.exit(main())
