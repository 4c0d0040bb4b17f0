"""``baas serve`` (the REST API) and ``baas token create/list/revoke`` (its API tokens): thin
wrappers over :mod:`baas.api`. Both use the API database: ``$BAAS_DATABASE_URL``, else SQLite
under ``$BAAS_HOME``. A token's secret is printed once, on stdout, by ``token create``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from baas.cli import output
from baas.cli.options import CONTEXT, KUBECONFIG, Format, SecretsOpt, kube_options

if TYPE_CHECKING:  # the API's modules load only when a command needs them
    from baas.api.db import Database
    from baas.api.tokens import TokenInfo

token_app = typer.Typer(
    name="token",
    help="API tokens for `baas serve`: create (shown once), list, revoke.",
    no_args_is_help=True,
)
FMT = typer.Option(Format.text, "-o", "--output", help="text or json.")
TOKEN_COLUMNS = ("id", "name", "role", "org", "state", "created", "expires")
NAME_MIN_WIDTH = 12


def _database() -> Database:
    from baas.api.db import Database

    db = Database()
    db.migrate()
    return db


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    source_dir: Path = typer.Option(
        Path("."),
        "--source-dir",
        help="Folder that relative paths in posted topologies (chaincode paths) resolve "
        "against, as the CLI resolves them against a topology file's folder.",
    ),
    cors_origin: list[str] = typer.Option(
        [], "--cors-origin", help="Allow this browser origin (repeatable); CORS is off without."
    ),
    max_upload_mib: int = typer.Option(
        32,
        "--max-upload-mib",
        min=1,
        max=4096,
        help="Largest chaincode source archive (.tar.gz) a client may upload, in MiB.",
    ),
    max_source_mib: int = typer.Option(
        256,
        "--max-source-mib",
        min=1,
        max=65536,
        help="Most an uploaded archive may unpack to, in MiB.",
    ),
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
) -> None:
    """Serve the REST API (OpenAPI at /openapi.json, docs at /docs).

    Example: baas serve --port 8000
    """
    import uvicorn

    from baas.api.app import create_app
    from baas.api.db import Database
    from baas.api.settings import ApiSettings

    settings = ApiSettings(
        source_dir=source_dir.resolve(),
        cors_origins=tuple(cors_origin),
        max_upload_bytes=max_upload_mib * 1024 * 1024,
        max_source_bytes=max_source_mib * 1024 * 1024,
        kube=kube_options(kubeconfig, context, SecretsOpt.kubernetes)
        if kubeconfig or context
        else None,
    )
    shown = Database(settings.database_url).shown
    output.err.print(f"baas API on http://{host}:{port} (database {shown})", markup=False)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=True)


def create_cmd(
    role: str = typer.Option(
        ...,
        "--role",
        help="consortium-admin, org-admin, chaincode-deployer or viewer.",
        show_default=False,
    ),
    org: str | None = typer.Option(
        None, "--org", help="Scope to this organisation (name or MSP ID); org-admin needs it."
    ),
    expires: int | None = typer.Option(
        None, "--expires", help="Days until it expires (default: never)."
    ),
    name: str = typer.Option("", "--name", help="What the token is for (shown by list)."),
    fmt: Format = FMT,
) -> None:
    """Create a token and print its secret once (stdout); only a hash is kept.

    Example: baas token create --role org-admin --org org1 --expires 90
    """
    from baas.api import tokens

    db = _database()
    made = tokens.create(db, role=tokens.parse_role(role), org=org, expires_days=expires, name=name)
    if fmt is Format.json:
        output.print_json({**made.info.to_dict(), "token": made.secret})
        return
    output.out.print(made.secret, markup=False, highlight=False)
    info = made.info
    scope = f" for {info.org}" if info.org else ""
    until = f", expires {info.expires_at:%Y-%m-%d}" if info.expires_at else ""
    output.err.print(
        f"created {info.id} ({info.role.value}{scope}{until}); the secret above is shown only now",
        markup=False,
    )


def _token_cells(t: TokenInfo) -> tuple[str, ...]:
    return (
        t.id,
        t.name,
        t.role.value,
        t.org or "-",
        t.state,
        f"{t.created_at:%Y-%m-%d}",
        f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never",
    )


def token_table(rows: Sequence[TokenInfo], *, width: int) -> Table:
    """The ``token list`` table for a terminal ``width`` columns wide. Every cell but the name
    is shown whole (an id must be copyable into ``token revoke``): those columns never wrap or
    shrink; the name wraps, down to :data:`NAME_MIN_WIDTH` characters. On a terminal too
    narrow for that, the table is wider than the terminal (rich would otherwise drop or cut
    columns)."""
    cells = [_token_cells(t) for t in rows]
    table = Table(box=None)
    needed = 0
    for i, header in enumerate(TOKEN_COLUMNS):
        widest = max([len(header), *(len(c[i]) for c in cells)])
        if header == "name":
            least = max(min(widest, NAME_MIN_WIDTH), len(header))
            table.add_column(header, min_width=least, overflow="fold")
        else:
            least = widest
            table.add_column(header, no_wrap=True, min_width=least)
        needed += least + 2  # one space of padding on either side
    for row in cells:
        table.add_row(*row)
    if needed > width:
        table.width = needed
    return table


def list_cmd(fmt: Format = FMT) -> None:
    """List tokens (never their secrets)."""
    from baas.api import tokens

    db = _database()
    rows = tokens.list_all(db)
    if fmt is Format.json:
        output.print_json([t.to_dict() for t in rows])
        return
    output.out.print(token_table(rows, width=output.out.width))


def revoke_cmd(
    token_id: str = typer.Argument(
        ..., help="The token's id (from list), or the start of exactly one id."
    ),
) -> None:
    """Revoke a token: every later call with it gets 401. An id's start (6 characters or more)
    will do when it names one token; one that names several exits 2 listing them.

    Example: baas token revoke tok_3f9c
    """
    from baas.api import tokens

    db = _database()
    info = tokens.revoke(db, token_id)
    output.err.print(f"revoked {info.id} ({info.role.value})", markup=False)


token_app.command("create")(create_cmd)
token_app.command("list")(list_cmd)
token_app.command("revoke")(revoke_cmd)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``token`` group to the ``baas`` app."""
    app.command()(serve)
    app.add_typer(token_app, name="token")
