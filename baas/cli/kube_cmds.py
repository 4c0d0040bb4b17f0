"""``baas render``: the Kubernetes manifests of a topology, as files (nothing is applied); a thin
wrapper over :func:`baas.services.render`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from baas.cli import common, output
from baas.cli.options import (
    CRYPTO,
    FILE,
    IMAGE_REGISTRY,
    OUTPUT,
    SECRETS,
    Format,
    SecretsOpt,
    alias,
    hidden,
)

if TYPE_CHECKING:
    from baas.services.render import RenderedFiles


def render(
    file: Path = FILE,
    out: Path = typer.Option(
        ...,
        "--out",
        help="Folder to write into (created when missing).",
        show_default=False,
        metavar="DIR",
    ),
    secrets: SecretsOpt = SECRETS,
    values: list[Path] = typer.Option(
        [],
        "--values",
        help="Extra chart values merged into every organisation's values (repeatable; never "
        "key material).",
        show_default=False,
        metavar="FILE",
    ),
    image_registry: str = IMAGE_REGISTRY,
    vault_mount: str = typer.Option("baas", "--vault-mount", help="KV v2 mount of identities."),
    vault_auth_path: str = typer.Option(
        "auth/kubernetes", "--vault-auth-path", help="Vault Kubernetes auth method path."
    ),
    crypto: Path | None = CRYPTO,
    workers: int = typer.Option(
        0, "--workers", min=0, help="Parallel helm processes (0: one per CPU)."
    ),
    fmt: Format = OUTPUT,
    old_secrets_mode: SecretsOpt | None = hidden("--secrets-mode"),
    old_values: list[Path] = hidden("-f", default=[]),
) -> None:
    """Write the network's Kubernetes manifests as files, for review and GitOps. That is each
    organisation's Helm values and its rendered manifests (the real `helm template` of
    charts/fabric), plus the namespaces and NetworkPolicies, into --out. Nothing is applied;
    unchanged files are not rewritten, and files an earlier render wrote but this one does not
    are removed.

    When the crypto folder exists, each node's pod template carries its certificates' digest,
    as `baas up` deploys it; without one the digests are left out (run `baas pki generate`
    first, or pass --crypto). The first render installs the pinned helm into the cache.

    \b
    Example: baas render examples/two-orgs.yaml --out ./manifests --secrets vault
    """
    from baas import services

    mode = alias(
        secrets,
        old_secrets_mode,
        old="--secrets-mode",
        new="--secrets",
        default=SecretsOpt.kubernetes,
    )
    extra = alias(values, old_values, old="-f", new="--values", default=[])
    loaded = common.load(file)
    common.announce_helm()
    outcome = services.render(
        loaded,
        out=out,
        crypto=crypto,
        values_files=extra,
        secrets_mode=mode.value,
        vault_mount=vault_mount,
        vault_auth_path=vault_auth_path,
        image_registry=image_registry,
        workers=workers or None,
    )
    if common.emit(outcome, fmt):
        return
    _text(outcome.value, out, file)


def _text(rendered: RenderedFiles, out: Path, file: Path) -> None:
    """What changed, one line per file, notes (missing hooks, no digests), then a summary line
    (all on stderr)."""
    for change in rendered.files:
        if change.action != "unchanged":
            output.note(f"{change.action:<9} {out / change.path}")
    for hook in rendered.result.missing_hooks:
        output.note(f"note: {hook} is not available yet; its manifests were not written")
    if not rendered.digests:
        output.note(
            f"note: no crypto folder at {rendered.crypto}, so the identity digests were left out "
            "of the pod templates; to include them, run "
            f"`{common.command_line('baas', 'pki', 'generate', file)}` first or pass --crypto DIR"
        )
    summary = ", ".join(f"{n} {a}" for a, n in rendered.counts.items() if n)
    orgs = rendered.result.orgs
    output.ok(
        f"rendered {common.count(len(orgs), 'organisation')} into {out} in "
        f"{rendered.result.seconds:.2f}s ({summary or 'no files'})"
    )


def register(app: typer.Typer) -> None:
    app.command()(render)
