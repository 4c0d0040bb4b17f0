"""The ``baas`` command line: a thin layer over :mod:`baas.services`.

Every sub-command lives in its own module under ``baas.cli`` and is registered here.
Errors derived from :class:`baas.errors.BaasError` (and topology errors) are printed without a
traceback; bad input exits 2. :func:`main` is the one place errors become exit statuses: as text
on stderr, or as one JSON ``Error`` document on stdout when the invocation asked for ``-o json``.

Help is click's plain formatter (``rich_markup_mode=None``): paragraphs are re-flowed to the
terminal, nothing in help text is read as markup or emoji codes, and flags show no ``<bool>``
metavar. Shell completion: ``baas --install-completion`` (bash, zsh, fish, PowerShell).
"""

from __future__ import annotations

import sys

import typer

from baas.cli import output

HELP = (
    "Deploy Hyperledger Fabric networks from one declarative topology file.\n\n"
    "Every command takes -o json for one machine-readable document on stdout, errors "
    "included; messages for people go to stderr.\n\n"
    "\b\nExample: baas validate examples/two-orgs.yaml && baas up examples/two-orgs.yaml"
)

app = typer.Typer(
    name="baas",
    help=HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"max_content_width": 100},
)


def _version_callback(value: bool) -> None:
    if value:
        from baas import __version__

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
        api_cmds,
        backup_cmds,
        chaincode_cmds,
        fabric_cmds,
        kube_cmds,
        pki_cmds,
        runtime_cmds,
        topology_cmds,
    )

    for module in (
        topology_cmds,
        pki_cmds,
        runtime_cmds,
        chaincode_cmds,
        kube_cmds,
        fabric_cmds,
        api_cmds,
        backup_cmds,
    ):
        module.register(app)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``); returns the exit status instead of
    raising (used by tests and the script). The consoles are set up for this invocation
    (``NO_COLOR``, terminals) and its output format read from ``argv`` first, so that an error
    anywhere, bad flags included, prints in the format asked for."""
    args = sys.argv[1:] if argv is None else list(argv)
    output.configure()
    output.set_json_mode(output.requested_json(args))
    try:
        result = app(args=args, prog_name="baas", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except BaseException as exc:  # the one place errors become exit codes
        return output.report_error(exc)
    finally:
        output.set_json_mode(False)
    return result if isinstance(result, int) else 0


def run() -> None:  # pragma: no cover
    sys.exit(main())
