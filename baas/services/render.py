"""``render``: a network's Kubernetes manifests as files (nothing is applied), as a service.

Writes each organisation's Helm values and its ``helm template`` output, plus the namespaces
and NetworkPolicies, under ``out`` (the layout of :mod:`baas.runtimes.kubernetes.rendering`).
Writing is an ensure: unchanged files are not rewritten, files an earlier render wrote but this
one does not are removed, and nothing is written when any organisation fails to render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import topology
from baas import plan as planning
from baas.home import crypto_dir
from baas.runtimes.kubernetes import rendering
from baas.runtimes.kubernetes.rendering import FileAction, FileChange, RenderResult
from baas.runtimes.kubernetes.values import SecretsMode, ValuesOptions
from baas.services.results import Outcome

__all__ = ["FILE_ACTIONS", "RenderedFiles", "render"]

FILE_ACTIONS: tuple[FileAction, ...] = ("created", "updated", "removed", "unchanged")


@dataclass(frozen=True)
class RenderedFiles:
    """What ``render`` wrote: :class:`~baas.runtimes.kubernetes.rendering.RenderResult` (paths
    relative to its ``out_dir``), the ``crypto`` tree it read certificate digests from, and
    whether that tree existed (``digests``: then every node whose certificates are all on disk
    carries its digest on its pod template, as ``baas up`` deploys it)."""

    result: RenderResult
    crypto: Path
    digests: bool

    @property
    def out(self) -> Path:
        return self.result.out_dir

    @property
    def files(self) -> tuple[FileChange, ...]:
        return self.result.files

    @property
    def counts(self) -> dict[FileAction, int]:
        """Files per action, every action present (zeros included), in :data:`FILE_ACTIONS`
        order."""
        return {a: sum(1 for f in self.files if f.action == a) for a in FILE_ACTIONS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "organizations": list(self.result.orgs),
            "files": [{"path": f.path, "action": f.action} for f in self.files],
            "counts": dict(self.counts),
            "missingHooks": list(self.result.missing_hooks),
            "crypto": str(self.crypto),
            "digests": self.digests,
            "seconds": round(self.result.seconds, 3),
        }


def render(
    loaded: topology.LoadedTopology,
    *,
    out: Path,
    crypto: Path | None = None,
    values_files: Sequence[Path] = (),
    secrets_mode: SecretsMode = "kubernetes",
    vault_mount: str = "baas",
    vault_auth_path: str = "auth/kubernetes",
    image_registry: str = "",
    workers: int | None = None,
) -> Outcome[RenderedFiles]:
    """Render every organisation of ``loaded``'s network into ``out`` (created when missing).

    ``crypto`` is the PKI tree whose certificate digests go on the node pods (default
    ``$BAAS_HOME/networks/<name>/crypto``; no digests when it does not exist). ``values_files``
    are YAML mappings merged into every organisation's values, never key material.
    ``secrets_mode`` says where pods read key material (Kubernetes Secrets or Vault's Agent
    Injector at ``vault_mount`` / ``vault_auth_path``); ``image_registry`` prefixes the Fabric
    images; ``workers`` bounds the parallel helm processes (None: one per CPU).

    Raises :class:`baas.errors.UsageError` for an unreadable or key-bearing values file, an
    unknown secrets mode, or an ``out`` that is not a folder — all before anything is written;
    :class:`baas.errors.OperationError` when helm fails.
    """
    plan = planning.build(loaded.network)
    extra = rendering.load_values_files(values_files)
    options = ValuesOptions(
        secrets_mode=secrets_mode,
        vault_mount=vault_mount,
        vault_auth_path=vault_auth_path,
        image_registry=image_registry,
    )
    root = crypto if crypto is not None else crypto_dir(plan.network)
    digests = root.is_dir()
    result = rendering.render(
        plan, out, options=options, extra_values=extra, crypto_root=root, workers=workers
    )
    return Outcome("RenderResult", RenderedFiles(result, root, digests), loaded.warnings)
