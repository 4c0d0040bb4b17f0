"""``baas pki``: generate, inspect, renew and revoke a network's crypto material.

Every command reads the topology file, derives what the PKI must issue (``baas.plan``) and works
on the crypto folder (default ``$BAAS_HOME/networks/<name>/crypto``; ``BAAS_HOME`` defaults to
``~/.baas``). Humans get tables on stderr; ``-o json`` writes data to stdout. Key material is
never printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from baas.cli import output
from baas.cli.options import Format
from baas.errors import UsageError

if TYPE_CHECKING:
    from pki import PKIResult, ProgressCallback
    from pki.spec import OrgSpec, PKIOptions

pki_app = typer.Typer(
    name="pki",
    help="Crypto material (CAs, MSPs, TLS) in Fabric's cryptogen layout.",
    no_args_is_help=True,
)

MAX_ROWS = 60


FILE_ARG = typer.Argument(..., help="Topology file.", show_default=False)
OUT_OPT = typer.Option(
    None,
    "--out",
    help="Crypto folder (default: $BAAS_HOME/networks/<name>/crypto).",
    show_default=False,
)
FMT_OPT = typer.Option(Format.text, "-o", "--output", help="text or json.")


def default_crypto_dir(network_name: str) -> Path:
    """``$BAAS_HOME/networks/<name>/crypto`` with ``BAAS_HOME`` defaulting to ``~/.baas``."""
    from baas.home import crypto_dir

    return crypto_dir(network_name)


def _load(file: Path, out: Path | None) -> tuple[list[OrgSpec], PKIOptions, Path]:
    """(org specs, options, crypto root) for the topology ``file``."""
    import topology
    from baas import plan

    loaded = topology.load(file)
    for diag in loaded.warnings:
        output.err.print(diag.render(), markup=False)
    network = loaded.network
    options = plan.pki_options(network)
    if options.key_algorithm == "Ed25519" and network.spec.fabric.version != "3.1":
        raise UsageError(
            "Ed25519 keys need Fabric 3.1",
            hint='set spec.fabric.version to "3.1" or spec.pki.keyAlgorithm to P-256',
        )
    root = out if out is not None else default_crypto_dir(network.metadata.name)
    return plan.pki_org_specs(network), options, root


def _require_tree(root: Path) -> None:
    if not root.is_dir():
        raise UsageError(f"no crypto material at {root}", hint="run `baas pki generate FILE` first")


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr (None when disabled)."""
    if not enabled:
        yield None
        return
    bar = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=output.err,
        transient=True,
    )
    task = bar.add_task("issuing", total=None)

    def report(step: object) -> None:
        from pki import Progress

        assert isinstance(step, Progress)
        bar.update(task, total=step.total, completed=step.done, description=step.org)

    with bar:
        yield report


def _report(result: PKIResult, fmt: Format, verb: str) -> None:
    if fmt is Format.json:
        output.print_json(
            {
                "root": str(result.root),
                "summary": result.summary(),
                "changes": [
                    {
                        "org": c.org,
                        "holder": c.holder,
                        "item": c.item,
                        "action": c.action,
                        "detail": c.detail,
                    }
                    for c in result.changes
                ],
            }
        )
        return
    changed = [c for c in result.changes if c.action != "kept"]
    if changed:
        table = Table("org", "holder", "item", "action", "detail", box=None)
        for c in changed[:MAX_ROWS]:
            table.add_row(c.org, c.holder, c.item, c.action, c.detail)
        output.err.print(table)
        if len(changed) > MAX_ROWS:
            output.err.print(f"… and {len(changed) - MAX_ROWS} more (use -o json for all)")
    counts = ", ".join(f"{n} {action}" for action, n in result.summary().items()) or "nothing"
    output.err.print(f"{verb} {result.root}: {counts}", markup=False)


def generate_cmd(file: Path = FILE_ARG, out: Path | None = OUT_OPT, fmt: Format = FMT_OPT) -> None:
    """Create missing CAs and identities; keep everything still valid byte for byte."""
    from pki import generate

    orgs, options, root = _load(file, out)
    with _progress(fmt is Format.text) as progress:
        result = generate(root, orgs, options, progress=progress)
    _report(result, fmt, "crypto material in")


def status_cmd(file: Path = FILE_ARG, out: Path | None = OUT_OPT, fmt: Format = FMT_OPT) -> None:
    """List every certificate with its expiry and days left (flags < 30 days); ``-o json``
    adds subjects and serials."""
    from pki import status

    orgs, _, root = _load(file, out)
    _require_tree(root)
    rows = status(root, orgs)
    if fmt is Format.json:
        output.print_json([r.as_dict() for r in rows])
        return
    styles = {"ok": "green", "expiring": "yellow", "expired": "red", "revoked": "red"}
    table = Table(box=None)
    table.add_column("org", no_wrap=True)
    table.add_column("certificate", no_wrap=True)
    for column in ("kind", "expires", "days", "state"):
        table.add_column(column, no_wrap=True)
    for r in rows:
        style = styles.get(r.state, "red")
        table.add_row(
            r.org,
            r.holder,
            r.kind,
            r.not_after.strftime("%Y-%m-%d") if r.not_after else "-",
            "-" if r.days_left is None else str(r.days_left),
            f"[{style}]{r.state}[/{style}]",
        )
    output.out.print(table)
    attention = [r for r in rows if r.needs_attention]
    if attention:
        output.err.print(
            f"{len(attention)} of {len(rows)} certificates need attention "
            "(renew with `baas pki renew FILE --expiring-within 30`)",
            markup=False,
        )
    else:
        output.err.print(f"all {len(rows)} certificates ok", markup=False)


def renew_cmd(
    file: Path = FILE_ARG,
    out: Path | None = OUT_OPT,
    identity: str | None = typer.Option(None, "--identity", help="Renew this identity's certs."),
    expiring_within: int | None = typer.Option(
        None, "--expiring-within", help="Renew every leaf certificate with fewer days left."
    ),
    new_key: bool = typer.Option(False, "--new-key", help="Issue new keys (default: keep)."),
    fmt: Format = FMT_OPT,
) -> None:
    """Re-issue leaf certificates, keeping their keys unless --new-key."""
    from pki import renew

    if (identity is None) == (expiring_within is None):
        raise UsageError("give exactly one of --identity NAME or --expiring-within DAYS")
    orgs, options, root = _load(file, out)
    _require_tree(root)
    result = renew(
        root,
        orgs,
        identity=identity,
        expiring_within=expiring_within,
        new_key=new_key,
        options=options,
    )
    _report(result, fmt, "renewed in")


def revoke_cmd(
    file: Path = FILE_ARG,
    name: str = typer.Argument(..., help="Identity to revoke (peer0.org1.example.com, …)."),
    out: Path | None = OUT_OPT,
    fmt: Format = FMT_OPT,
) -> None:
    """Revoke an identity's certificates and publish the CRLs in every MSP of its org."""
    from pki import revoke

    orgs, options, root = _load(file, out)
    _require_tree(root)
    result = revoke(root, orgs, name, options=options)
    _report(result, fmt, "revoked in")


pki_app.command("generate")(generate_cmd)
pki_app.command("status")(status_cmd)
pki_app.command("renew")(renew_cmd)
pki_app.command("revoke")(revoke_cmd)


def register(app: typer.Typer) -> None:
    """Add the ``pki`` command group to the ``baas`` app."""
    app.add_typer(pki_app, name="pki")
