"""``baas pki``: generate, inspect, renew and revoke a network's crypto material, and rotate an
organisation's TLS CA.

Thin wrappers over :mod:`baas.services.pki`: the crypto folder (``--crypto``) defaults to
``$BAAS_HOME/networks/<name>/crypto`` (``BAAS_HOME`` defaults to ``~/.baas``); ``--out`` is its
deprecated spelling. People get tables and a progress bar on stderr; ``-o json`` writes the
service's document to stdout. Key material is never printed.
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
from rich.text import Text

from baas.cli import common, output
from baas.cli.options import CRYPTO, FILE, OUTPUT, Format, alias, hidden
from baas.errors import UsageError

if TYPE_CHECKING:
    from baas.services import Outcome
    from baas.services.pki import PKIChanges
    from pki import ProgressCallback

pki_app = typer.Typer(
    name="pki",
    help="Crypto material (CAs, MSPs, TLS) in Fabric's cryptogen layout. Generate it, list "
    "its expiry, renew and revoke certificates, rotate an organisation's TLS CA.\n\n"
    "\b\nExample: baas pki generate examples/two-orgs.yaml",
    no_args_is_help=True,
)

MAX_ROWS = 60
OLD_OUT = hidden("--out")
"""``--out``: the deprecated spelling of ``--crypto``."""


def _crypto(crypto: Path | None, old_out: Path | None) -> Path | None:
    return alias(crypto, old_out, old="--out", new="--crypto", default=None)


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A progress bar on stderr when ``enabled`` and stderr is a terminal (else None)."""
    if not (enabled and output.err.is_terminal):
        yield None
        return
    bar = RichProgress(
        TextColumn("{task.description}", markup=False),
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


def _report(
    outcome: Outcome[PKIChanges], fmt: Format, verb: str, *, always: tuple[str, ...] = ()
) -> None:
    """Print a generate/renew/revoke outcome: its document (json), or the certificates that
    changed (no row for those kept; no detail column when no row has one), then ``<verb>
    <root>: <counts>`` (text, on stderr)."""
    if common.emit(outcome, fmt):
        return
    result = outcome.value
    _changes_table(result)
    output.note(f"{verb} {result.root}: {result.counts_line(always=always)}")


def _changes_table(result: PKIChanges) -> None:
    from baas.services.pki import CERTIFICATE_ITEMS

    changed = [
        c
        for c in result.changes
        if c.action != "kept" and (c.item in CERTIFICATE_ITEMS or c.item == "crl")
    ]
    if not changed:
        return
    details = [_detail(c.action, c.detail) for c in changed[:MAX_ROWS]]
    columns = ["org", "holder", "item", "action"] + (["detail"] if any(details) else [])
    table = Table(*columns, box=None)
    for change, detail in zip(changed[:MAX_ROWS], details, strict=True):
        row = [change.org, change.holder, change.item, change.action]
        table.add_row(*row, *([detail] if any(details) else []))
    output.err.print(table)
    if len(changed) > MAX_ROWS:
        output.note(f"… and {len(changed) - MAX_ROWS} more (use -o json for all)")


def _detail(action: str, detail: str) -> str:
    """The detail worth a column: not ``missing`` for a created certificate (that is what
    created means)."""
    return "" if action == "created" and detail == "missing" else detail


def generate_cmd(
    file: Path = FILE,
    crypto: Path | None = CRYPTO,
    fmt: Format = OUTPUT,
    old_out: Path | None = OLD_OUT,
) -> None:
    """Create the crypto material the network lacks; keep what is still valid. The CAs and
    identities already there are kept byte for byte: re-running changes nothing, adding a peer
    issues just its certificates, and the counts (created, kept, ...) add up to the network's
    certificates on every run.

    \b
    Example: baas pki generate examples/two-orgs.yaml --crypto ./crypto
    """
    from baas import services

    loaded = common.load(file)
    with _progress(fmt is Format.text) as progress:
        outcome = services.pki_generate(loaded, out=_crypto(crypto, old_out), progress=progress)
    _report(outcome, fmt, "crypto material in", always=("created", "kept"))


def status_cmd(
    file: Path = FILE,
    crypto: Path | None = CRYPTO,
    fmt: Format = OUTPUT,
    old_out: Path | None = OLD_OUT,
) -> None:
    """List every certificate with its expiry. Read-only: days left per certificate, flagging
    those with fewer than 30, expired, revoked or missing; with -o json also each
    certificate's subject, serial and path.

    \b
    Example: baas pki status examples/two-orgs.yaml -o json
    """
    from baas import services

    outcome = services.pki_status(common.load(file), out=_crypto(crypto, old_out))
    if common.emit(outcome, fmt):
        return
    result = outcome.value
    rows = result.certificates
    styles = {"ok": "green", "expiring": "yellow", "expired": "red", "revoked": "red"}
    table = Table(box=None)
    table.add_column("org", no_wrap=True)
    table.add_column("certificate", no_wrap=True)
    for column in ("kind", "expires", "days", "state"):
        table.add_column(column, no_wrap=True)
    for r in rows:
        table.add_row(
            r.org,
            r.holder,
            r.kind,
            r.not_after.strftime("%Y-%m-%d") if r.not_after else "-",
            "-" if r.days_left is None else str(r.days_left),
            Text(r.state, style=styles.get(r.state, "red")),
        )
    output.out.print(table)
    if result.attention:
        output.note(
            f"{len(result.attention)} of {len(rows)} certificates need attention "
            f"(renew with `baas pki renew FILE --expiring-within {result.warn_days}`)"
        )
    else:
        output.note(f"all {len(rows)} certificates ok")


def renew_cmd(
    file: Path = FILE,
    crypto: Path | None = CRYPTO,
    identity: str | None = typer.Option(
        None, "--identity", help="Renew this identity's certificates.", metavar="NAME"
    ),
    expiring_within: int | None = typer.Option(
        None,
        "--expiring-within",
        help="Renew every leaf certificate with fewer days left.",
        metavar="DAYS",
    ),
    new_key: bool = typer.Option(False, "--new-key", help="Issue new keys (default: keep them)."),
    fmt: Format = OUTPUT,
    old_out: Path | None = OLD_OUT,
) -> None:
    """Re-issue leaf certificates, keeping their keys unless --new-key. Those of one identity
    or every one expiring soon: give exactly one of --identity and --expiring-within. The next
    `baas up` rolls them out.

    \b
    Example: baas pki renew examples/two-orgs.yaml --expiring-within 30
    """
    from baas import services

    if (identity is None) == (expiring_within is None):
        raise UsageError("give exactly one of --identity NAME or --expiring-within DAYS")
    outcome = services.pki_renew(
        common.load(file),
        out=_crypto(crypto, old_out),
        identity=identity,
        expiring_within=expiring_within,
        new_key=new_key,
    )
    _report(outcome, fmt, "renewed in", always=("renewed",))


def revoke_cmd(
    file: Path = FILE,
    name: str = typer.Argument(
        ..., help="Identity to revoke (peer0.org1.example.com, …).", metavar="NAME"
    ),
    crypto: Path | None = CRYPTO,
    fmt: Format = OUTPUT,
    old_out: Path | None = OLD_OUT,
) -> None:
    """Revoke an identity's certificates and publish the CRLs. They land in every MSP of its
    organisation; revoking again changes nothing.

    \b
    Example: baas pki revoke examples/two-orgs.yaml alice@org1.example.com
    """
    from baas import services

    outcome = services.pki_revoke(common.load(file), name, out=_crypto(crypto, old_out))
    _report(outcome, fmt, "revoked in", always=("revoked",))


def rotate_ca_cmd(
    file: Path = FILE,
    org: str = typer.Argument(
        ..., help="Organisation whose CA rotates (its name, as in the topology).", metavar="ORG"
    ),
    tls: bool = typer.Option(
        False, "--tls", help="Rotate its TLS CA (required: the signing CA does not rotate)."
    ),
    crypto: Path | None = CRYPTO,
    fmt: Format = OUTPUT,
) -> None:
    """Start rotating an organisation's TLS CA without downtime. A new TLS CA issues from now
    on while the old one stays trusted beside it; the next `baas up` rolls it out: every
    channel trusts both CAs, each node gets a certificate of the new CA and restarts, one at
    a time, and once every node serves one the old CA leaves the MSPs and the channels.
    `baas plan FILE -t local` shows the pending phase; running it again changes nothing until
    the rotation is done.

    \b
    Example: baas pki rotate-ca examples/two-orgs.yaml org1 --tls
    """
    from baas import services

    outcome = services.pki_rotate_ca(common.load(file), org, tls=tls, out=crypto)
    if common.emit(outcome, fmt):
        return
    result = outcome.value
    _changes_table(result)
    started = any(c.item == "tlsca" and c.action == "created" for c in result.changes)
    if started:
        output.note(
            f"TLS CA of {org} rotating in {result.root}: both CAs are trusted until "
            f"`baas up {file}` has rolled the new one out (`baas plan {file} -t local` shows "
            "what it will do)"
        )
    else:
        output.note(f"TLS CA of {org} is already rotating: `baas up {file}` finishes it")


pki_app.command("generate")(generate_cmd)
pki_app.command("status")(status_cmd)
pki_app.command("renew")(renew_cmd)
pki_app.command("revoke")(revoke_cmd)
pki_app.command("rotate-ca")(rotate_ca_cmd)


def register(app: typer.Typer) -> None:
    """Add the ``pki`` command group to the ``baas`` app."""
    app.add_typer(pki_app, name="pki")
