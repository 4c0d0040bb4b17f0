"""``baas fabric``: Fabric's own binaries (peer, orderer, configtxgen...) on this machine.

``baas fabric list`` shows, per pinned release, where the binaries would be found
(``--fabric-bin``, ``FABRIC_BIN``, the cache, PATH) or what is wrong; ``baas fabric install``
downloads the official release archive into the cache (``${XDG_CACHE_HOME:-~/.cache}/baas/
fabric/<release>``). People get a table and a progress bar; ``-o json`` writes one document
(``FabricReleaseList``, ``FabricInstallResult``) to stdout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, DownloadColumn, TextColumn, TransferSpeedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from baas.cli import common, output
from baas.cli.options import OUTPUT, Format
from baas.services.results import Outcome

if TYPE_CHECKING:
    from baas.fabric.binaries import Progress

fabric_app = typer.Typer(
    name="fabric",
    help="Fabric's binaries: list where they are, install a pinned release.\n\n"
    "\b\nExample: baas fabric install --version 3.1",
    no_args_is_help=True,
)

_STYLES = {"ok": "green", "absent": "yellow"}


@contextmanager
def _download_bar(enabled: bool, label: str) -> Iterator[Progress | None]:
    """A download bar on stderr when ``enabled`` and stderr is a terminal (else None)."""
    if not (enabled and output.err.is_terminal):
        yield None
        return
    bar = RichProgress(
        TextColumn("{task.description}", markup=False),
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
        "2.5", "--version", help="Fabric line 2.5 or 3.1 (or the release, 2.5.16 or 3.1.5)."
    ),
    force: bool = typer.Option(False, "--force", help="Download again even if installed."),
    fmt: Format = OUTPUT,
) -> None:
    """Download a pinned Fabric release into the cache. The official release archive is
    verified and installed atomically; nothing is downloaded when a verified install is
    already there (unless --force).

    \b
    Example: baas fabric install --version 3.1
    """
    from baas.fabric.binaries import resolve_release
    from baas.services.fabric import fabric_install

    release = resolve_release(version)
    with _download_bar(fmt is Format.text, f"Fabric {release}") as progress:
        result = fabric_install(release, force=force, progress=progress)
    if common.emit(Outcome("FabricInstallResult", result), fmt):
        return
    where = result.install.root or result.install.bin_dir
    if result.installed:
        output.note(f"installed Fabric {release} in {where}")
    else:
        output.note(
            f"Fabric {release} is already installed in {where} (--force downloads it again)"
        )


def list_cmd(fmt: Format = OUTPUT) -> None:
    """Show each pinned Fabric release: found or not, where, and what is missing or wrong.
    Searched in order: --fabric-bin of `baas up`, FABRIC_BIN, the cache, then PATH.

    \b
    Example: baas fabric list -o json
    """
    from baas.services.fabric import fabric_list

    result = fabric_list()
    if common.emit(Outcome("FabricReleaseList", result), fmt):
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
            Text(row.state, style=style),
            data["source"] or "-",
            data["path"] or "-",
            ", ".join(data["missing"]) or "-",
        )
        if not row.status.found:
            problems.append(f"{data['release']}: {data['problem']}")
    output.out.print(table)
    for line in problems:
        output.note(line)
    if problems:
        output.note(
            "install with `baas fabric install --version 2.5|3.1`, or point FABRIC_BIN at an "
            "extracted official release archive"
        )


fabric_app.command("install")(install_cmd)
fabric_app.command("list")(list_cmd)


def register(app: typer.Typer) -> None:
    """Add the ``fabric`` command group to the ``baas`` app."""
    app.add_typer(fabric_app, name="fabric")
