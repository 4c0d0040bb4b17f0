"""``baas render``: the Kubernetes manifests of a topology, as files (nothing is applied)."""

from __future__ import annotations

from pathlib import Path

import typer

from baas.cli import output
from baas.cli.options import Format, SecretsOpt


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
    import topology
    from baas import plan as planning
    from baas.home import crypto_dir
    from baas.runtimes.kubernetes import rendering
    from baas.runtimes.kubernetes.values import SecretsMode, ValuesOptions

    loaded = topology.load(file)
    for diag in loaded.warnings:
        output.err.print(diag.render(), markup=False)
    the_plan = planning.build(loaded.network)
    extra = rendering.load_values_files(values)
    mode: SecretsMode = secrets_mode.value
    options = ValuesOptions(
        secrets_mode=mode,
        vault_mount=vault_mount,
        vault_auth_path=vault_auth_path,
        image_registry=image_registry,
    )
    result = rendering.render(
        the_plan,
        out,
        options=options,
        extra_values=extra,
        crypto_root=crypto or crypto_dir(the_plan.network),
        workers=workers or None,
    )
    if fmt is Format.json:
        output.print_json(
            {
                "out": str(result.out_dir),
                "organizations": list(result.orgs),
                "files": [{"path": f.path, "action": f.action} for f in result.files],
                "missing": list(result.missing_hooks),
                "seconds": round(result.seconds, 3),
            }
        )
        return
    for change in result.files:
        if change.action != "unchanged":
            output.err.print(f"{change.action:<9} {out / change.path}", markup=False)
    for hook in result.missing_hooks:
        output.err.print(
            f"note: {hook} is not available yet; its manifests were not written", markup=False
        )
    counts = {
        a: sum(1 for f in result.files if f.action == a)
        for a in ("created", "updated", "removed", "unchanged")
    }
    summary = ", ".join(f"{n} {a}" for a, n in counts.items() if n)
    output.err.print(
        f"[green]ok[/green] rendered {len(result.orgs)} organisation"
        f"{'' if len(result.orgs) == 1 else 's'} into {out} in {result.seconds:.2f}s "
        f"({summary or 'no files'})"
    )


def register(app: typer.Typer) -> None:
    app.command()(render)
