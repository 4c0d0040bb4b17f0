"""``baas invoke`` and ``baas query``: call a deployed chaincode (thin over
:mod:`baas.services.chaincode`)."""

from __future__ import annotations

from pathlib import Path

import typer

from baas.cli import output
from baas.cli.options import FILE, Format

CHAINCODE = typer.Argument(..., help="Chaincode name (as in the topology).", show_default=False)
FUNCTION = typer.Argument(..., help="Transaction function.", show_default=False)
ARGS = typer.Argument(None, help="Its arguments.", show_default=False)
IDENTITY = typer.Option(
    None, "--as", help="Identity to sign with, e.g. alice@org1.example.com (default: a user)."
)
OUTPUT = typer.Option(Format.text, "--output", "-o", help="text or json.")


def invoke(
    file: Path = FILE,
    chaincode: str = CHAINCODE,
    function: str = FUNCTION,
    args: list[str] | None = ARGS,
    identity: str | None = IDENTITY,
    fmt: Format = OUTPUT,
) -> None:
    """Submit a transaction endorsed by every member organisation and wait for its commit.

    Example: baas invoke examples/two-orgs.yaml basic CreateAsset a1 blue 5 Tomoko 300
    """
    from baas import services
    from baas.services import chaincode as calls

    loaded = services.load(file)
    output.print_warnings(loaded.warnings)
    outcome = calls.invoke(
        loaded, chaincode=chaincode, function=function, args=args or [], identity=identity
    )
    if fmt is Format.json:
        output.print_json(outcome.to_dict())
        return
    value = outcome.value
    output.err.print(
        f"committed {value.tx_id} in block {value.block} as {value.identity} "
        f"({value.seconds:.2f}s)",
        markup=False,
    )
    if value.result:
        output.out.print(value.text, markup=False, highlight=False)


def query(
    file: Path = FILE,
    chaincode: str = CHAINCODE,
    function: str = FUNCTION,
    args: list[str] | None = ARGS,
    identity: str | None = IDENTITY,
    peer: str | None = typer.Option(None, "--peer", help="Peer FQDN to ask."),
    fmt: Format = OUTPUT,
) -> None:
    """Evaluate a transaction function on one peer (nothing is ordered).

    Example: baas query examples/two-orgs.yaml basic ReadAsset a1
    """
    from baas import services
    from baas.services import chaincode as calls

    loaded = services.load(file)
    output.print_warnings(loaded.warnings)
    outcome = calls.query(
        loaded,
        chaincode=chaincode,
        function=function,
        args=args or [],
        identity=identity,
        peer=peer,
    )
    if fmt is Format.json:
        output.print_json(outcome.to_dict())
    else:
        output.out.print(outcome.value.text, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(invoke)
    app.command()(query)
