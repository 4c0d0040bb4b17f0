"""``baas validate``, ``baas plan`` and ``baas schema``: thin wrappers over
:mod:`baas.services.plan` (and :func:`baas.services.plan_changes` for ``plan --target``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from baas.cli import common, output
from baas.cli.options import (
    CONTEXT,
    KUBECONFIG,
    OUTPUT,
    SECRETS,
    Format,
    SecretsOpt,
    TargetOpt,
    kube_options,
)


def validate(
    files: list[Path] = typer.Argument(
        ..., help="Topology files to check.", show_default=False, metavar="FILE"
    ),
    fmt: Format = OUTPUT,
) -> None:
    """Check topology files. Every error and warning names the file, line, field path and the
    fix; exit status 0 when every file is valid (warnings allowed), 2 otherwise.

    With -o json, one ValidationReport: "valid", and per file its network summary (as the
    text form's "ok" line) and its diagnostics.

    \b
    Example: baas validate examples/*.yaml
    """
    results = [_validate_one(file, fmt) for file in files]
    valid = all(item["valid"] for item in results)
    if fmt is Format.json:
        warnings = [w for item in results for w in item.pop("_warnings")]
        output.print_json(
            output.document("ValidationReport", {"valid": valid, "files": results}, warnings)
        )
    if not valid:
        raise typer.Exit(2)


def _validate_one(file: Path, fmt: Format) -> dict[str, Any]:
    """Validate ``file`` and, in text mode, print its diagnostics and summary line (on stderr).
    Returns its ``files[]`` item: ``ValidationResult.to_dict()`` when valid, else ``file``,
    ``valid`` false and the ``diagnostics``; plus the warnings under ``_warnings`` (for the
    report's own ``warnings``, removed before printing)."""
    import topology
    from baas import services

    try:
        checked = services.validate(file).value
    except topology.TopologyError as exc:
        if fmt is Format.text:
            output.print_diagnostics(exc.diagnostics)
        diagnostics = topology.errors.by_position(exc.diagnostics)
        return {
            "file": str(file),
            "valid": False,
            "diagnostics": [d.to_dict() for d in diagnostics],
            "_warnings": exc.warnings,
        }
    if fmt is Format.text:
        output.print_diagnostics(checked.diagnostics)
        output.ok(common.summary(file, checked))
    return {**checked.to_dict(), "file": str(file), "_warnings": list(checked.diagnostics)}


def plan(
    file: Path = typer.Argument(..., help="Topology file.", show_default=False, metavar="FILE"),
    fmt: Format = OUTPUT,
    target: TargetOpt | None = typer.Option(
        None,
        "--target",
        "-t",
        help="Also compare with what runs there: what `baas up` would change.",
        show_default=False,
    ),
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    secrets: SecretsOpt = SECRETS,
) -> None:
    """Show what the topology would create, or with --target what `baas up` would change.
    Read-only: the organisations, nodes, namespaces, identities, channels and chaincodes.

    With --target, also what `baas up` would change there (per object, release and identity:
    create, update or unchanged), still writing nothing; exit status 0 either way. With -o json
    the Plan document carries that comparison as "changes" (null without --target).

    \b
    Example: baas plan examples/two-orgs.yaml --target kubernetes --context kind-baas
    """
    from baas import services

    loaded = common.load(file)
    outcome = services.describe_plan(loaded)
    changes: Any = None
    if target is not None:
        kube = kube_options(kubeconfig, context, secrets)
        changes = services.plan_changes(loaded, target=target.value, kube=kube).value
    if fmt is Format.json:
        data = outcome.to_dict()
        warnings = data.pop("warnings")
        data["changes"] = None if changes is None else changes.to_dict()
        output.print_json({**data, "warnings": warnings})
        return
    output.out.print(_plan_tree(outcome.value.plan))
    if changes is not None:
        output.out.print()
        output.out.print(output.styled(f"changes on {target}", "bold", f" (secrets: {secrets})"))
        for line in changes.lines():
            output.out.print(Text(f"  {line}"))
        output.out.print(Text(changes.summary_line()))


def _plan_tree(p: object) -> Tree:
    from baas.plan import Plan

    assert isinstance(p, Plan)
    tree = Tree(
        output.styled(
            p.network,
            "bold",
            f"  Fabric {p.fabric_release}, {p.consensus}, keys {p.pki.key_algorithm}",
        )
    )
    orgs = tree.add("organisations")
    for org in p.orgs:
        branch = orgs.add(
            output.styled(org.name, "bold", f" ({org.msp_id})  namespace {org.namespace}")
        )
        for node in org.nodes:
            line = Text(f"{node.role:<7} {node.fqdn}")
            if node in org.anchor_peers:
                line.append(" (anchor)", style="cyan")
            branch.add(line)
        branch.add(Text(f"admin   {org.admin}"))
        for user in org.users:
            branch.add(Text(f"client  {user}"))
    channels = tree.add("channels")
    for ch in p.channels:
        channels.add(
            output.styled(
                ch.name,
                "bold",
                f"  members {', '.join(ch.members)}; "
                f"{len(ch.consenters)} consenters from {', '.join(ch.orderer_orgs)}",
            )
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


def schema(fmt: Format = OUTPUT) -> None:
    """Print the JSON Schema of the topology format. It is draft 2020-12, for editors and the
    web UI; the text form is the schema itself, ready to save as a file; -o json wraps it as the
    "schema" of a Schema document.

    \b
    Example: baas schema > baas-topology.schema.json
    """
    from baas import services

    document = services.schema()
    if fmt is Format.json:
        output.print_json(output.document("Schema", {"schema": document}))
        return
    typer.echo(json.dumps(document, indent=2))


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(plan)
    app.command()(schema)
