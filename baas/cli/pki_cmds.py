"""``baas pki``: generate, inspect, renew and revoke a network's crypto material.

Thin wrappers over :mod:`baas.services.pki`: the crypto folder defaults to
``$BAAS_HOME/networks/<name>/crypto`` (``BAAS_HOME`` defaults to ``~/.baas``). Humans get tables
on stderr; ``-o json`` writes data to stdout. Key material is never printed.
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
    import topology
    from baas.services.pki import PKIChanges
    from pki import ProgressCallback

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


def _load(file: Path) -> topology.LoadedTopology:
    """The topology ``file``, its warnings printed once (on stderr)."""
    from baas import services

    loaded = services.load(file)
    output.print_warnings(loaded.warnings)
    return loaded


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


def _report(result: PKIChanges, fmt: Format, verb: str) -> None:
    if fmt is Format.json:
        output.print_json(result.to_dict())
        return
    changed = [c for c in result.changes if c.action != "kept"]
    if changed:
        table = Table("org", "holder", "item", "action", "detail", box=None)
        for c in changed[:MAX_ROWS]:
            table.add_row(c.org, c.holder, c.item, c.action, c.detail)
        output.err.print(table)
        if len(changed) > MAX_ROWS:
            output.err.print(f"… and {len(changed) - MAX_ROWS} more (use -o json for all)")
    counts = ", ".join(f"{n} {action}" for action, n in result.summary.items()) or "nothing"
    output.err.print(f"{verb} {result.root}: {counts}", markup=False)


def generate_cmd(file: Path = FILE_ARG, out: Path | None = OUT_OPT, fmt: Format = FMT_OPT) -> None:
    """Create missing CAs and identities; keep everything still valid byte for byte."""
    from baas import services

    loaded = _load(file)
    with _progress(fmt is Format.text) as progress:
        outcome = services.pki_generate(loaded, out=out, progress=progress)
    _report(outcome.value, fmt, "crypto material in")


def status_cmd(file: Path = FILE_ARG, out: Path | None = OUT_OPT, fmt: Format = FMT_OPT) -> None:
    """List every certificate with its expiry and days left (flags < 30 days); ``-o json``
    adds subjects and serials."""
    from baas import services

    result = services.pki_status(_load(file), out=out).value
    rows = result.certificates
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
    if result.attention:
        output.err.print(
            f"{len(result.attention)} of {len(rows)} certificates need attention "
            f"(renew with `baas pki renew FILE --expiring-within {result.warn_days}`)",
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
    from baas import services

    if (identity is None) == (expiring_within is None):
        raise UsageError("give exactly one of --identity NAME or --expiring-within DAYS")
    outcome = services.pki_renew(
        _load(file),
        out=out,
        identity=identity,
        expiring_within=expiring_within,
        new_key=new_key,
    )
    _report(outcome.value, fmt, "renewed in")


def revoke_cmd(
    file: Path = FILE_ARG,
    name: str = typer.Argument(..., help="Identity to revoke (peer0.org1.example.com, …)."),
    out: Path | None = OUT_OPT,
    fmt: Format = FMT_OPT,
) -> None:
    """Revoke an identity's certificates and publish the CRLs in every MSP of its org."""
    from baas import services

    outcome = services.pki_revoke(_load(file), name, out=out)
    _report(outcome.value, fmt, "revoked in")


pki_app.command("generate")(generate_cmd)
pki_app.command("status")(status_cmd)
pki_app.command("renew")(renew_cmd)
pki_app.command("revoke")(revoke_cmd)


def register(app: typer.Typer) -> None:
    """Add the ``pki`` command group to the ``baas`` app."""
    app.add_typer(pki_app, name="pki")
