"""``baas fabric``: Fabric's own binaries (peer, orderer, configtxgen...) on this machine.

``baas fabric list`` shows, per pinned release, where the binaries would be found
(``--fabric-bin``, ``FABRIC_BIN``, the cache, PATH) or what is wrong; ``baas fabric install``
downloads the official release archive into the cache (``${XDG_CACHE_HOME:-~/.cache}/baas/
fabric/<release>``). Humans get a table and a progress bar; ``-o json`` writes data to stdout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.progress import BarColumn, DownloadColumn, TextColumn, TransferSpeedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from baas.cli import output
from baas.cli.options import Format
from baas.fabric.binaries import Progress

fabric_app = typer.Typer(
    name="fabric",
    help="Fabric's binaries: list where they are, install a pinned release.",
    no_args_is_help=True,
)

FMT_OPT = typer.Option(Format.text, "-o", "--output", help="text or json.")
_STYLES = {"ok": "green", "absent": "yellow"}


@contextmanager
def _download_bar(enabled: bool, label: str) -> Iterator[Progress | None]:
    """A rich download bar on stderr (None when disabled)."""
    if not enabled:
        yield None
        return
    bar = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=output.err,
        transient=True,
    )
    task = bar.add_task(label, total=None)

    def report(done: int, total: int | None) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield report


def install_cmd(
    version: str = typer.Option(
        "2.5", "--version", help="Fabric line 2.5 or 3.1 (or 2.5.16, 3.1.5)."
    ),
    force: bool = typer.Option(False, "--force", help="Download again even if installed."),
    fmt: Format = FMT_OPT,
) -> None:
    """Download Fabric's official release archive into the cache, verify it and install it
    (skipped when a verified install is already there)."""
    from baas.fabric.binaries import resolve_release
    from baas.services.fabric import fabric_install

    release = resolve_release(version)
    with _download_bar(fmt is Format.text, f"Fabric {release}") as progress:
        result = fabric_install(release, force=force, progress=progress)
    if fmt is Format.json:
        output.print_json(result.to_dict())
        return
    where = result.install.root or result.install.bin_dir
    if result.installed:
        output.err.print(f"installed Fabric {release} in {where}", markup=False)
    else:
        output.err.print(
            f"Fabric {release} is already installed in {where} (--force downloads it again)",
            markup=False,
        )


def list_cmd(fmt: Format = FMT_OPT) -> None:
    """Show each pinned Fabric release: found or not, where, and what is missing or wrong."""
    from baas.services.fabric import fabric_list

    result = fabric_list()
    if fmt is Format.json:
        output.print_json(result.to_dict())
        return
    table = Table(box=None)
    for column in ("version", "status", "source"):
        table.add_column(column, no_wrap=True)
    table.add_column("path", overflow="fold")
    table.add_column("missing", overflow="fold")
    problems: list[str] = []
    for row in result.rows:
        data = row.to_dict()
        style = _STYLES.get(row.state, "red")
        table.add_row(
            f"{data['version']} ({data['release']})",
            f"[{style}]{row.state}[/{style}]",
            data["source"] or "-",
            data["path"] or "-",
            ", ".join(data["missing"]) or "-",
        )
        if not row.status.found:
            problems.append(f"{data['release']}: {data['problem']}")
    output.out.print(table)
    for line in problems:
        output.err.print(line, markup=False)
    if problems:
        output.err.print(
            "install with `baas fabric install --version 2.5|3.1`, or point FABRIC_BIN at an "
            "extracted official release archive",
            markup=False,
        )


fabric_app.command("install")(install_cmd)
fabric_app.command("list")(list_cmd)


def register(app: typer.Typer) -> None:
    """Add the ``fabric`` command group to the ``baas`` app."""
    app.add_typer(fabric_app, name="fabric")
