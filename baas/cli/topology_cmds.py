"""``baas validate``, ``baas plan`` and ``baas schema``: thin wrappers over
:mod:`baas.services.plan` (and :func:`baas.services.plan_changes` for ``plan --target``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.tree import Tree

from baas.cli import output
from baas.cli.options import (
    CONTEXT,
    KUBECONFIG,
    SECRETS,
    Format,
    SecretsOpt,
    TargetOpt,
    kube_options,
)


def validate(
    files: list[Path] = typer.Argument(..., help="Topology files to check.", show_default=False),
    fmt: Format = typer.Option(Format.text, "-o", "--output", help="text or json."),
) -> None:
    """Check topology files. Exit 0 when all are valid (warnings allowed), 2 otherwise."""
    results = [_validate_one(file, fmt) for file in files]
    if fmt is Format.json:
        output.print_json(results)
    if not all(item["valid"] for item in results):
        raise typer.Exit(2)


def _validate_one(file: Path, fmt: Format) -> dict[str, Any]:
    """Validate ``file`` and, in text mode, print its diagnostics and summary line; returns the
    file's ``-o json`` item (``file``, ``valid``, ``diagnostics``)."""
    import topology
    from baas import services

    try:
        checked = services.validate(file).value
    except topology.TopologyError as exc:
        if fmt is Format.text:
            for diag in exc.diagnostics:
                output.err.print(diag.render(), markup=False)
        return {
            "file": str(file),
            "valid": False,
            "diagnostics": [d.to_dict() for d in exc.diagnostics],
        }
    if fmt is Format.text:
        output.print_warnings(checked.diagnostics)
        output.err.print(
            f"[green]ok[/green] {file}: network {checked.network!r}, "
            f"{_count(checked.organizations, 'organisation')}, {_count(checked.nodes, 'node')}, "
            f"{_count(checked.channels, 'channel')}, "
            f"{_count(checked.chaincodes, 'chaincode')}"
        )
    return {
        "file": str(file),
        "valid": True,
        "diagnostics": [d.to_dict() for d in checked.diagnostics],
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def plan(
    file: Path = typer.Argument(..., help="Topology file.", show_default=False),
    fmt: Format = typer.Option(Format.text, "-o", "--output", help="text or json."),
    target: TargetOpt | None = typer.Option(
        None,
        "--target",
        "-t",
        help="Also compare with what runs there (kubernetes): what `up` would change.",
    ),
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    secrets: SecretsOpt = SECRETS,
) -> None:
    """Show what the topology would create: organisations, nodes, namespaces, identities,
    channels and chaincodes. With --target, also what `baas up` would change there (create,
    update, unchanged per object, release and identity), read-only; exit 0 either way."""
    from baas import services

    loaded = services.load(file)
    output.print_warnings(loaded.warnings)
    the_plan = services.describe_plan(loaded).value.plan
    changes: Any = None
    if target is not None:
        kube = kube_options(kubeconfig, context, secrets)
        changes = services.plan_changes(loaded, target=target.value, kube=kube).value
    if fmt is Format.json:
        data = the_plan.to_dict()  # snake_case, as `plan -o json` always printed
        output.print_json(data if changes is None else {"plan": data, "changes": changes.to_dict()})
        return
    output.out.print(_plan_tree(the_plan))
    if changes is not None:
        output.out.print(f"\n[bold]changes on {target}[/bold] (secrets: {secrets.value})")
        for line in changes.lines():
            output.out.print(f"  {line}", markup=False)
        output.out.print(changes.summary_line(), markup=False)


def _plan_tree(p: object) -> Tree:
    from baas.plan import Plan

    assert isinstance(p, Plan)
    tree = Tree(
        f"[bold]{p.network}[/bold]  Fabric {p.fabric_release}, {p.consensus}, "
        f"keys {p.pki.key_algorithm}"
    )
    orgs = tree.add("organisations")
    for org in p.orgs:
        branch = orgs.add(f"[bold]{org.name}[/bold] ({org.msp_id})  namespace {org.namespace}")
        for node in org.nodes:
            anchor = " [cyan](anchor)[/cyan]" if node in org.anchor_peers else ""
            branch.add(f"{node.role:<7} {node.fqdn}{anchor}")
        branch.add(f"admin   {org.admin}")
        for user in org.users:
            branch.add(f"client  {user}")
    channels = tree.add("channels")
    for ch in p.channels:
        channels.add(
            f"[bold]{ch.name}[/bold]  members {', '.join(ch.members)}; "
            f"{len(ch.consenters)} consenters from {', '.join(ch.orderer_orgs)}"
        )
    if p.chaincodes:
        table = Table("chaincode", "channel", "version", "endorsement", box=None)
        for cc in p.chaincodes:
            policy = (
                "MAJORITY Endorsement (channel default)"
                if cc.endorsement_is_default
                else cc.endorsement
            )
            table.add_row(cc.name, cc.channel, cc.version, policy)
        tree.add("chaincodes").add(table)
    return tree


def schema() -> None:
    """Print the JSON Schema of the topology format (for editors and the web UI)."""
    from baas import services

    typer.echo(json.dumps(services.schema(), indent=2))


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(plan)
    app.command()(schema)
