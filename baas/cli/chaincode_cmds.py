"""``baas invoke`` and ``baas query``: call a deployed chaincode (thin over
:mod:`baas.services.chaincode`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from baas.cli import common, output
from baas.cli.options import FILE, OUTPUT, Format

CHAINCODE = typer.Argument(
    ..., help="Chaincode name (as in the topology).", show_default=False, metavar="CHAINCODE"
)
FUNCTION = typer.Argument(..., help="Transaction function.", show_default=False, metavar="FUNCTION")
ARGS = typer.Argument(
    None,
    help="Its arguments (put -- before the first one that starts with -).",
    show_default=False,
    metavar="ARGS",
)
IDENTITY = typer.Option(
    None,
    "--as",
    help="Identity to sign with, e.g. alice@org1.example.com (default: a user).",
    metavar="NAME",
)


def invoke(
    file: Path = FILE,
    chaincode: str = CHAINCODE,
    function: str = FUNCTION,
    args: list[str] | None = ARGS,
    identity: str | None = IDENTITY,
    fmt: Format = OUTPUT,
) -> None:
    """Submit a transaction endorsed by every member organisation and wait for its commit.
    The chaincode's answer goes to stdout, the transaction ID and block to stderr.

    \b
    Example: baas invoke examples/two-orgs.yaml basic CreateAsset a1 blue 5 Tomoko 300
    """
    from baas.services import chaincode as calls

    loaded = common.load(file)
    outcome = calls.invoke(
        loaded, chaincode=chaincode, function=function, args=args or [], identity=identity
    )
    if common.emit(outcome, fmt):
        return
    value = outcome.value
    output.note(
        f"committed {value.tx_id} in block {value.block} as {value.identity} ({value.seconds:.2f}s)"
    )
    if value.result:
        output.out.print(Text(value.text))


def query(
    file: Path = FILE,
    chaincode: str = CHAINCODE,
    function: str = FUNCTION,
    args: list[str] | None = ARGS,
    identity: str | None = IDENTITY,
    peer: str | None = typer.Option(
        None, "--peer", help="Peer to ask (its FQDN; default: an anchor peer).", metavar="FQDN"
    ),
    fmt: Format = OUTPUT,
) -> None:
    """Evaluate a transaction function on one peer (nothing is ordered). The chaincode's
    answer goes to stdout.

    \b
    Example: baas query examples/two-orgs.yaml basic ReadAsset a1
    """
    from baas.services import chaincode as calls

    loaded = common.load(file)
    outcome = calls.query(
        loaded,
        chaincode=chaincode,
        function=function,
        args=args or [],
        identity=identity,
        peer=peer,
    )
    if not common.emit(outcome, fmt):
        output.out.print(Text(outcome.value.text))


def register(app: typer.Typer) -> None:
    app.command()(invoke)
    app.command()(query)
