"""``baas backup`` and ``baas restore``: thin wrappers over :mod:`baas.services.backup`.

The passphrase comes from ``BAAS_BACKUP_PASSPHRASE``, else a prompt (twice for a backup) on a
terminal; without either the command refuses (exit 2). Progress goes to stderr, the result
(``-o json``: one document) to stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from baas.cli import common, output
from baas.cli.options import FILE, OUTPUT, TARGET, Format, TargetOpt
from baas.cli.runtime_cmds import _Progress
from baas.errors import UsageError


def _passphrase(*, confirm: bool) -> str:
    from baas.backup import encryption

    found = encryption.passphrase_from_env()
    if found is not None:
        return found
    if not sys.stdin.isatty():
        raise UsageError(
            "no backup passphrase: set BAAS_BACKUP_PASSPHRASE or run on a terminal to be asked",
            hint="the passphrase encrypts every private key in the backup; keep it apart from it",
        )
    value: str = typer.prompt("backup passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


def backup(
    file: Path = FILE,
    to: Path = typer.Option(..., "--to", help="Folder to write the backup into.", metavar="DIR"),
    target: TargetOpt = TARGET,
    fmt: Format = OUTPUT,
) -> None:
    """Back a running network up into a folder: topology, PKI tree (every private key
    encrypted with AES-GCM under a key derived by scrypt from BAAS_BACKUP_PASSPHRASE or a
    prompt), genesis and latest config blocks, a ledger snapshot of one peer per organisation
    and channel at one agreed height, each orderer's ledger (copied one orderer at a time),
    and a manifest of every file's SHA-256 signed with an admin key. The network keeps
    serving while it runs; an earlier backup in DIR is replaced once the new one is complete.

    \b
    Example: baas backup examples/two-orgs.yaml --to /backups/supplychain
    """
    from baas.services import backup as service

    loaded = common.load(file)
    outcome = service.backup(
        loaded,
        to=to,
        passphrase=_passphrase(confirm=True),
        target=target.value,
        report=_Progress(),
    )
    if common.emit(outcome, fmt):
        return
    result = outcome.value
    heights = ", ".join(f"{c} {h}" for c, h in result.heights.items())
    output.done(
        f" in {result.seconds:.1f}s: {result.files} files ({result.encrypted} encrypted), "
        f"heights {heights}; signer {result.signer[:16]}"
    )
    common.print_next(
        [(common.command_line("baas", "restore", result.folder), "bring it back on empty state")]
    )


def restore(
    folder: Path = typer.Argument(..., help="Backup folder.", metavar="DIR", show_default=False),
    as_network: str | None = typer.Option(
        None, "--as-network", help="Restore under this network name.", metavar="NAME"
    ),
    target: TargetOpt = TARGET,
    fmt: Format = OUTPUT,
) -> None:
    """Restore a backup into the network's empty $BAAS_HOME folder. The manifest's signature
    and every file's SHA-256 are verified and every key decrypted before anything is written:
    a tampered, truncated or incomplete backup or a wrong passphrase is refused (exit 2).
    Then `baas up FILE` brings the network back at the backed-up heights with the same
    identities; blocks committed after the backup are lost, and the report names the heights.

    \b
    Example: baas restore /backups/supplychain
    """
    from baas.services import backup as service

    outcome = service.restore(
        folder,
        passphrase=_passphrase(confirm=False),
        as_network=as_network,
        target=target.value,
        report=_Progress(),
    )
    if common.emit(outcome, fmt):
        return
    result = outcome.value
    output.done(f": network {result.network} in {result.folder}, {result.written} files written")
    for note in result.notes:
        output.note(f"  {note}")
    output.note(f"  signed by the admin certificate with SHA-256 {result.signer}")
    common.print_next([("baas up FILE", f"start {result.network} again from the restored state")])


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
