"""``baas up``, ``baas down`` and ``baas status``: thin wrappers over :mod:`baas.services`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from baas.cli import output


class TargetOpt(StrEnum):
    local = "local"
    kubernetes = "kubernetes"


class SecretsOpt(StrEnum):
    kubernetes = "kubernetes"
    vault = "vault"


FILE = typer.Argument(..., help="Topology file.", show_default=False)
TARGET = typer.Option(TargetOpt.local, "--target", "-t", help="local or kubernetes.")
CONTEXT = typer.Option(None, "--context", help="kubeconfig context (default: current).")
KUBECONFIG = typer.Option(None, "--kubeconfig", help="kubeconfig file (default: $KUBECONFIG).")
SECRETS = typer.Option(
    SecretsOpt.kubernetes,
    "--secrets",
    help="Where pods get key material: kubernetes Secrets or vault (VAULT_ADDR/VAULT_TOKEN).",
)


def _kube(
    kubeconfig: Path | None,
    context: str | None,
    secrets: SecretsOpt,
    wait: bool = True,
    timeout: float = 300.0,
    registry: str = "",
) -> object:
    from baas.kubernetes.cluster import ClusterTarget
    from baas.kubernetes.runtime import KubeOptions

    return KubeOptions(
        target=ClusterTarget(kubeconfig=kubeconfig, context=context),
        secrets=secrets.value,
        wait=wait,
        timeout=timeout,
        image_registry=registry,
    )


def _say(line: str) -> None:
    output.err.print(f"  {line}", markup=False)


def up(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    secrets: SecretsOpt = SECRETS,
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for workloads to be ready."),
    timeout: float = typer.Option(300.0, "--timeout", help="Seconds to wait for workloads."),
    registry: str = typer.Option("", "--image-registry", help="Registry prefix for images."),
) -> None:
    """Bring the network up (idempotent: re-running changes only what differs)."""
    from baas import services

    output.err.print(f"[bold]baas up[/bold] {file} → {target.value}")
    result = services.up(
        file,
        target=target.value,
        kube=_kube(kubeconfig, context, secrets, wait, timeout, registry),
        report=_say,
    )
    verdict = "changed" if getattr(result, "changed", True) else "already up to date"
    output.err.print(f"[green]done[/green]: {verdict}")


def down(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    secrets: SecretsOpt = SECRETS,
    purge: bool = typer.Option(False, "--purge", help="Also delete namespaces, data and keys."),
) -> None:
    """Stop the network; --purge deletes its namespaces, volumes and key material too."""
    from baas import services

    services.down(
        file,
        target=target.value,
        purge=purge,
        kube=_kube(kubeconfig, context, secrets),
        report=_say,
    )
    output.err.print("[green]done[/green]")


def status(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
) -> None:
    """Show what runs for the network: namespaces and workloads with readiness (JSON)."""
    from baas import services

    output.print_json(
        services.status(
            file, target=target.value, kube=_kube(kubeconfig, context, SecretsOpt.kubernetes)
        )
    )


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(status)
