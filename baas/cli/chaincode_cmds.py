"""``baas invoke`` and ``baas query``: call a deployed chaincode; ``baas chaincode list``: what
the channels and peers hold (thin over :mod:`baas.services.chaincode`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from baas.cli import common, output
from baas.cli.options import (
    CONTEXT,
    FILE,
    KUBECONFIG,
    OUTPUT,
    TARGET,
    Format,
    SecretsOpt,
    TargetOpt,
    kube_for,
)

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
AS_ORG = typer.Option(
    None,
    "--as",
    help="Sign only as this organisation (its name in the topology); repeatable.",
    metavar="ORG",
)
IDENTITY = typer.Option(
    None,
    "--as",
    help="Identity to sign with: alice@org1.example.com, or alice if unique (default: a user).",
    metavar="NAME",
)


def invoke(
    file: Path = FILE,
    chaincode: str = CHAINCODE,
    function: str = FUNCTION,
    args: list[str] | None = ARGS,
    identity: str | None = IDENTITY,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    fmt: Format = OUTPUT,
) -> None:
    """Submit a transaction endorsed by every member organisation and wait for its commit.
    The chaincode's answer goes to stdout, the transaction ID and block to stderr.

    \b
    Example: baas invoke examples/two-orgs.yaml basic CreateAsset a1 blue 5 Tomoko 300
    """
    from baas.services import chaincode as calls

    loaded = common.load(file)
    kube = kube_for(target, kubeconfig=kubeconfig, context=context, secrets=SecretsOpt.kubernetes)
    outcome = calls.invoke(
        loaded,
        chaincode=chaincode,
        function=function,
        args=args or [],
        identity=identity,
        target=target.value,
        kube=kube,
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
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    fmt: Format = OUTPUT,
) -> None:
    """Evaluate a transaction function on one peer (nothing is ordered). The chaincode's
    answer goes to stdout.

    \b
    Example: baas query examples/two-orgs.yaml basic ReadAsset a1
    """
    from baas.services import chaincode as calls

    loaded = common.load(file)
    kube = kube_for(target, kubeconfig=kubeconfig, context=context, secrets=SecretsOpt.kubernetes)
    outcome = calls.query(
        loaded,
        chaincode=chaincode,
        function=function,
        args=args or [],
        identity=identity,
        peer=peer,
        target=target.value,
        kube=kube,
    )
    if not common.emit(outcome, fmt):
        output.out.print(Text(outcome.value.text))


chaincode_app = typer.Typer(
    name="chaincode",
    help="Chaincode on a running network: what its channels and peers hold.\n\n"
    "\b\nExample: baas chaincode list examples/two-orgs.yaml",
    no_args_is_help=True,
)


@chaincode_app.command("list")
def list_chaincodes(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    fmt: Format = OUTPUT,
) -> None:
    """List every committed chaincode definition per channel (version, sequence, endorsement
    policy, Init, the version the topology wants) with each member organisation's approved
    package, then the packages installed on each peer.

    \b
    Example: baas chaincode list examples/two-orgs.yaml -o json
    """
    from baas.services import chaincode as calls

    loaded = common.load(file)
    kube = kube_for(target, kubeconfig=kubeconfig, context=context, secrets=SecretsOpt.kubernetes)
    outcome = calls.chaincode_list(loaded, target=target.value, kube=kube)
    if not common.emit(outcome, fmt):
        _print_inventory(outcome.to_dict())


@chaincode_app.command("deliver")
def deliver(
    file: Path = FILE,
    name: str = typer.Option(
        ...,
        "--name",
        help="The chaincode's name (added when the topology lacks it).",
        metavar="NAME",
        show_default=False,
    ),
    path: Path | None = typer.Option(
        None,
        "--path",
        help="Its source folder (written relative to the topology file).",
        metavar="DIR",
    ),
    image: str | None = typer.Option(
        None, "--image", help="Its server's container image (Kubernetes).", metavar="REF"
    ),
    version: str | None = typer.Option(None, "--version", help="Its version.", metavar="V"),
    endorsement: str | None = typer.Option(
        None,
        "--endorsement",
        help="Its endorsement policy, e.g. AND('Org1MSP.peer','Org2MSP.peer').",
        metavar="POLICY",
    ),
    collections: Path | None = typer.Option(
        None,
        "--collections",
        help="Its private data collections: a collections_config.json (Fabric's format), "
        "written relative to the topology file; a changed set is the next sequence.",
        metavar="FILE",
    ),
    channel: str | None = typer.Option(
        None,
        "--channel",
        help="Its channel (needed for a new chaincode when there are several).",
        metavar="CH",
    ),
    approval: str | None = typer.Option(
        None,
        "--approval",
        help="auto (baas approves for every member) or manual (only for --as organisations; "
        "the commit waits for a majority).",
        metavar="MODE",
    ),
    acting: list[str] | None = AS_ORG,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    fmt: Format = OUTPUT,
) -> None:
    """Add or update one chaincode in the topology file (comments and order kept, the change
    shown as a diff), then run only the chaincode part of up on the running network: build,
    servers, install, approve, commit, Init. The running version keeps serving until the new
    definition is committed; the same source and version again change nothing. With --as,
    baas signs only as those organisations (a manual-approval chaincode then waits for the
    others' `baas chaincode approve`).

    \b
    Example: baas chaincode deliver examples/two-orgs.yaml --name basic --version 1.1
    """
    from baas.services import delivery
    from topology.editing import ChaincodeChange

    relative = None
    if path is not None:
        relative = os.path.relpath(path.resolve(), file.resolve().parent)
    collections_file = None
    if collections is not None:
        collections_file = os.path.relpath(collections.resolve(), file.resolve().parent)
    change = ChaincodeChange(
        name=name,
        path=relative,
        image=image,
        version=version,
        endorsement=endorsement,
        collections=collections_file,
        channel=channel,
        approval=approval,
    )
    kube = kube_for(target, kubeconfig=kubeconfig, context=context, secrets=SecretsOpt.kubernetes)
    outcome = delivery.deliver_file(
        file,
        change,
        target=target.value,
        kube=kube,
        report=output.note,
        signers=frozenset(acting) if acting else None,
    )
    if not common.emit(outcome, fmt):
        _print_delivery(outcome.value, verb="delivered" if outcome.value.changed else None)


@chaincode_app.command("approve")
def approve(
    file: Path = FILE,
    name: str = typer.Option(
        ..., "--name", help="The chaincode's name.", metavar="NAME", show_default=False
    ),
    acting: list[str] = typer.Option(
        ...,
        "--as",
        help="Approve as this organisation (its name in the topology); repeatable.",
        metavar="ORG",
        show_default=False,
    ),
    channel: str | None = typer.Option(
        None, "--channel", help="Its channel (when several hold the name).", metavar="CH"
    ),
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    fmt: Format = OUTPUT,
) -> None:
    """Approve the chaincode definition the topology wants as the given organisations only
    (their peers get its package first); once a majority of the channel's organisations have
    approved, it is committed and its servers switch. Used with `approval: manual`.

    \b
    Example: baas chaincode approve examples/two-orgs.yaml --name basic --as org2
    """
    from baas.services import delivery

    kube = kube_for(target, kubeconfig=kubeconfig, context=context, secrets=SecretsOpt.kubernetes)
    outcome = delivery.approve(
        file,
        name=name,
        organizations=acting,
        channel=channel,
        target=target.value,
        kube=kube,
        report=output.note,
    )
    if not common.emit(outcome, fmt):
        _print_delivery(outcome.value, verb="approved")


@chaincode_app.command("rollback")
def rollback(
    file: Path = FILE,
    name: str = typer.Option(
        ..., "--name", help="The chaincode's name.", metavar="NAME", show_default=False
    ),
    channel: str | None = typer.Option(
        None, "--channel", help="Its channel (when several hold the name).", metavar="CH"
    ),
    acting: list[str] | None = AS_ORG,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    fmt: Format = OUTPUT,
) -> None:
    """Deliver the version defined before the committed one, from the copy of its sources
    baas kept when it was defined, as the next sequence (the topology entry's version and
    path change; the diff shows it). Its packages are the ones the peers already have.

    \b
    Example: baas chaincode rollback examples/two-orgs.yaml --name basic
    """
    from baas.services import delivery

    kube = kube_for(target, kubeconfig=kubeconfig, context=context, secrets=SecretsOpt.kubernetes)
    outcome = delivery.rollback(
        file,
        name=name,
        channel=channel,
        target=target.value,
        kube=kube,
        report=output.note,
        signers=frozenset(acting) if acting else None,
    )
    if not common.emit(outcome, fmt):
        _print_delivery(outcome.value, verb="rolled back")


def _print_delivery(value: Any, *, verb: str | None) -> None:
    committed = value.committed
    where = f"{committed.version}, sequence {committed.sequence}" if committed else "not committed"
    shown = verb if value.changed and verb else f"already {verb or 'delivered'}"
    output.note(f"{shown} {value.chaincode} on {value.channel}: {where} ({value.seconds:.1f}s)")
    if value.awaiting:
        output.note(f"awaiting approvals: {value.awaiting}")


def _print_inventory(data: dict[str, Any]) -> None:
    say = output.out.print
    for channel in data["channels"]:
        say(Text(f"channel {channel['channel']}"))
        if channel["error"]:
            say(Text(f"  cannot read it: {channel['error']}"))
        if not channel["committed"] and not channel["error"]:
            say(Text("  no chaincode committed"))
        for cc in channel["committed"]:
            wanted = cc["wantedVersion"]
            behind = f" (the topology wants {wanted})" if wanted and wanted != cc["version"] else ""
            init = ", Init required" if cc["initRequired"] else ""
            say(Text(f"  {cc['name']} {cc['version']} sequence {cc['sequence']}{behind}{init}"))
            say(Text(f"    endorsement {cc['endorsement']}"))
            for coll in cc.get("collections", []):
                say(Text(f"    collection {coll['name']} {coll['policy']}"))
            for approval in cc["approvals"]:
                package = approval["packageId"]
                shown = "not approved" if package is None else package or "approved, no package"
                say(Text(f"    {approval['mspId']:<16} {shown}"))
    say(Text("installed"))
    for peer in data["peers"]:
        if peer["error"]:
            say(Text(f"  {peer['peer']}: cannot read it: {peer['error']}"))
            continue
        ids = ", ".join(p["packageId"] for p in peer["packages"]) or "nothing"
        say(Text(f"  {peer['peer']}: {ids}"))


def register(app: typer.Typer) -> None:
    app.command()(invoke)
    app.command()(query)
    app.add_typer(chaincode_app, name="chaincode")
