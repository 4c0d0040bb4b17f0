"""Option types shared by the commands: output format, target, secrets mode, cluster access."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer


class Format(StrEnum):
    text = "text"
    json = "json"


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


def kube_options(
    kubeconfig: Path | None,
    context: str | None,
    secrets: SecretsOpt,
    wait: bool = True,
    timeout: float = 300.0,
    registry: str = "",
) -> Any:
    """The :class:`baas.runtimes.kubernetes.runtime.KubeOptions` the command-line options
    describe."""
    from baas.runtimes.kubernetes.cluster import ClusterTarget
    from baas.runtimes.kubernetes.runtime import KubeOptions

    return KubeOptions(
        target=ClusterTarget(kubeconfig=kubeconfig, context=context),
        secrets=secrets.value,
        wait=wait,
        timeout=timeout,
        image_registry=registry,
    )
