"""The command line's one option vocabulary: each name means one thing on every command.

* ``FILE`` — the topology file (an argument).
* ``-o/--output text|json`` — the output format (:data:`OUTPUT`); ``json`` writes one document
  on stdout, errors included.
* ``--crypto DIR`` — the crypto (PKI) folder, default ``$BAAS_HOME/networks/<name>/crypto``
  (:data:`CRYPTO`: ``pki *`` and ``render``).
* ``--out DIR`` — a folder a command writes its output files into (``render`` only).
* ``-t/--target local|kubernetes``, ``--context``, ``--kubeconfig`` — where the network runs.
* ``--secrets kubernetes|vault`` — where pods read key material (``up``, ``down``, ``plan``,
  ``render``).
* ``--image-registry`` — the registry prefix of the Fabric images (``up``, ``render``).
* ``-f/--follow`` — keep printing (``logs``); ``--values FILE`` — extra chart values.

Old spellings stay one release as hidden, deprecated aliases that print a warning on stderr
(:func:`alias`, :data:`DEPRECATED`): ``pki * --out`` (now ``--crypto``), ``render
--secrets-mode`` (now ``--secrets``), ``render -f`` (now ``--values``), ``smoke --json`` (now
``-o json``).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import typer

from baas.cli import output
from baas.errors import UsageError

T = TypeVar("T")


class Format(StrEnum):
    text = "text"
    json = "json"


class TargetOpt(StrEnum):
    local = "local"
    kubernetes = "kubernetes"


class SecretsOpt(StrEnum):
    kubernetes = "kubernetes"
    vault = "vault"


DEPRECATED: dict[str, str] = {
    "pki --out": "--crypto",
    "render --secrets-mode": "--secrets",
    "render -f": "--values",
    "smoke --json": "-o json",
}
"""Every deprecated spelling (command and option) and the one that replaces it."""

FILE = typer.Argument(..., help="Topology file.", show_default=False, metavar="FILE")
OUTPUT = typer.Option(
    Format.text,
    "-o",
    "--output",
    help="Output format: text for people, json for scripts (one document on stdout, errors "
    "included).",
)
TARGET = typer.Option(TargetOpt.local, "--target", "-t", help="Where the network runs.")
CONTEXT = typer.Option(
    None, "--context", help="kubeconfig context (default: the current one).", metavar="NAME"
)
KUBECONFIG = typer.Option(
    None, "--kubeconfig", help="kubeconfig file (default: $KUBECONFIG).", metavar="FILE"
)
SECRETS = typer.Option(
    SecretsOpt.kubernetes,
    "--secrets",
    help="Where pods read key material: kubernetes Secrets, or vault (VAULT_ADDR, VAULT_TOKEN).",
)
CRYPTO = typer.Option(
    None,
    "--crypto",
    help="Crypto (PKI) folder (default: $BAAS_HOME/networks/<name>/crypto).",
    show_default=False,
    metavar="DIR",
)
IMAGE_REGISTRY = typer.Option(
    "",
    "--image-registry",
    help="Registry prefix of the Fabric images, for air-gapped clusters.",
    show_default=False,
    metavar="PREFIX",
)


def hidden(*names: str, default: Any = None) -> Any:
    """A hidden option for a deprecated spelling (see :func:`alias`)."""
    return typer.Option(default, *names, hidden=True, show_default=False)


def alias(value: T, old_value: T | None, *, old: str, new: str, default: T) -> T:
    """The value of option ``new`` given that the deprecated spelling ``old`` produced
    ``old_value`` (``None`` or an empty list when it was not used). Using ``old`` prints a
    deprecation warning on stderr naming ``new``; giving both, with different values, is a
    :class:`UsageError`."""
    if old_value is None or old_value == []:
        return value
    output.warn(f"{old} is deprecated and will be removed in the next release; use {new}")
    if value != default and value != old_value:
        raise UsageError(
            f"{old} and {new} both given, with different values",
            hint=f"give only {new}",
        )
    return old_value


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


def kube_for(target: TargetOpt, **kwargs: Any) -> Any:
    """:func:`kube_options` (``kwargs``) for the Kubernetes target, None for the local one."""
    return kube_options(**kwargs) if target is TargetOpt.kubernetes else None
