"""``baas render``: the Kubernetes manifests of a topology, as files (nothing is applied); a thin
wrapper over :func:`baas.services.render`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from baas.cli import output
from baas.cli.options import Format, SecretsOpt

if TYPE_CHECKING:
    from baas.services.render import RenderedFiles


def render(
    file: Path = typer.Argument(..., help="Topology file.", show_default=False),
    out: Path = typer.Option(
        ..., "--out", help="Output folder (created when missing).", show_default=False
    ),
    secrets_mode: SecretsOpt = typer.Option(
        SecretsOpt.kubernetes,
        "--secrets-mode",
        help="Where pods read key material: kubernetes Secrets or vault (Agent Injector).",
    ),
    values: list[Path] = typer.Option(
        [],
        "--values",
        "-f",
        help="Extra chart values merged into every organisation's values (repeatable; "
        "never key material).",
        show_default=False,
    ),
    image_registry: str = typer.Option(
        "",
        "--image-registry",
        help="Registry prefix for the Fabric images (air-gapped).",
        show_default=False,
    ),
    vault_mount: str = typer.Option("baas", "--vault-mount", help="KV v2 mount of identities."),
    vault_auth_path: str = typer.Option(
        "auth/kubernetes", "--vault-auth-path", help="Vault Kubernetes auth method path."
    ),
    crypto: Path | None = typer.Option(
        None,
        "--crypto",
        help="PKI tree whose certificate digests go on the node pods, as `baas up` deploys "
        "them (default: $BAAS_HOME/networks/<name>/crypto; none when it does not exist).",
        show_default=False,
    ),
    workers: int = typer.Option(
        0, "--workers", min=0, help="Parallel helm processes (0 = one per CPU)."
    ),
    fmt: Format = typer.Option(Format.text, "-o", "--output", help="text or json."),
) -> None:
    """Write each organisation's Helm values and its rendered manifests (real `helm template`
    of charts/fabric), plus the namespaces and NetworkPolicies, under --out."""
    from baas import services

    loaded = services.load(file)
    output.print_warnings(loaded.warnings)
    rendered = services.render(
        loaded,
        out=out,
        crypto=crypto,
        values_files=values,
        secrets_mode=secrets_mode.value,
        vault_mount=vault_mount,
        vault_auth_path=vault_auth_path,
        image_registry=image_registry,
        workers=workers or None,
    ).value
    if fmt is Format.json:
        output.print_json(_json(rendered))
        return
    _text(rendered, out)


def _json(rendered: RenderedFiles) -> dict[str, Any]:
    """The ``-o json`` document (its shape predates :meth:`RenderedFiles.to_dict`, kept)."""
    result = rendered.result
    return {
        "out": str(result.out_dir),
        "organizations": list(result.orgs),
        "files": [{"path": f.path, "action": f.action} for f in result.files],
        "missing": list(result.missing_hooks),
        "seconds": round(result.seconds, 3),
    }


def _text(rendered: RenderedFiles, out: Path) -> None:
    """What changed, one line per file, then a summary line (on stderr)."""
    for change in rendered.files:
        if change.action != "unchanged":
            output.err.print(f"{change.action:<9} {out / change.path}", markup=False)
    for hook in rendered.result.missing_hooks:
        output.err.print(
            f"note: {hook} is not available yet; its manifests were not written", markup=False
        )
    summary = ", ".join(f"{n} {a}" for a, n in rendered.counts.items() if n)
    orgs = rendered.result.orgs
    output.err.print(
        f"[green]ok[/green] rendered {len(orgs)} organisation"
        f"{'' if len(orgs) == 1 else 's'} into {out} in {rendered.result.seconds:.2f}s "
        f"({summary or 'no files'})"
    )


def register(app: typer.Typer) -> None:
    app.command()(render)
