"""Helm releases of ``charts/fabric``, one per organisation, through pyhelm3.

:func:`ensure_release` heals a release stuck in ``pending-*`` first, then installs or upgrades
only when the chart or the values differ from the deployed revision (pyhelm3's
``Client.ensure_release``). The chart's content digest is part of the values, so editing the chart
without bumping its version still upgrades.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from baas.errors import OperationError
from baas.runtimes.kubernetes.helm import CHART_DIR


@dataclass(frozen=True)
class ReleaseChange:
    name: str
    namespace: str
    revision: int | None
    action: Literal["installed", "upgraded", "unchanged", "uninstalled", "absent"]

    def __str__(self) -> str:
        rev = f" (revision {self.revision})" if self.revision else ""
        return f"release {self.namespace}/{self.name}: {self.action}{rev}"


def chart_digest(chart_dir: Path = CHART_DIR) -> str:
    """SHA-256 over the chart's files (names and bytes), stable across machines."""
    digest = hashlib.sha256()
    for path in sorted(p for p in chart_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(chart_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class HelmSettings:
    executable: str
    kubeconfig: Path | None = None
    context: str | None = None
    timeout: str = "5m"


def helm_client(settings: HelmSettings) -> Any:
    from pyhelm3 import Client

    return Client(
        executable=settings.executable,
        kubeconfig=settings.kubeconfig,
        kubecontext=settings.context,
        default_timeout=settings.timeout,
    )


def helm_error(exc: Exception, what: str) -> OperationError:
    stderr = getattr(exc, "stderr", b"") or b""
    text = stderr.decode(errors="replace").strip() if isinstance(stderr, bytes) else str(stderr)
    return OperationError(
        f"helm failed {what}: {text or exc}",
        hint="run `helm status` / `helm history` on the release; "
        "fix the cluster problem it names and re-run",
    )


async def _ensure(
    settings: HelmSettings, *, name: str, namespace: str, values: dict[str, Any], chart_dir: Path
) -> ReleaseChange:
    from pyhelm3.errors import ReleaseNotFoundError

    client = helm_client(settings)
    chart = await client.get_chart(chart_dir)
    try:
        before = await client.get_current_revision(name, namespace=namespace)
        before_rev: int | None = before.revision
    except ReleaseNotFoundError:
        before_rev = None
    revision = await client.ensure_release(
        name, chart, values, namespace=namespace, create_namespace=False, wait=False
    )
    if before_rev is None:
        action: Literal["installed", "upgraded", "unchanged"] = "installed"
    elif revision.revision == before_rev:
        action = "unchanged"
    else:
        action = "upgraded"
    return ReleaseChange(name, namespace, revision.revision, action)


def ensure_release(
    settings: HelmSettings,
    *,
    name: str,
    namespace: str,
    values: dict[str, Any],
    chart_dir: Path = CHART_DIR,
) -> ReleaseChange:
    """Install or upgrade ``name`` in ``namespace`` only if chart or values changed. The namespace
    must exist (baas applies it with its labels and policies first). Raises
    :class:`OperationError` with helm's own message."""
    wanted = {**values, "chartDigest": chart_digest(chart_dir)}
    try:
        return asyncio.run(
            _ensure(settings, name=name, namespace=namespace, values=wanted, chart_dir=chart_dir)
        )
    except OperationError:
        raise
    except Exception as exc:
        raise helm_error(exc, f"for release {namespace}/{name}") from None


async def _uninstall(settings: HelmSettings, name: str, namespace: str) -> ReleaseChange:
    from pyhelm3.errors import ReleaseNotFoundError

    client = helm_client(settings)
    try:
        await client.get_current_revision(name, namespace=namespace)
    except ReleaseNotFoundError:
        return ReleaseChange(name, namespace, None, "absent")
    await client.uninstall_release(name, namespace=namespace, wait=False)
    return ReleaseChange(name, namespace, None, "uninstalled")


def uninstall_release(settings: HelmSettings, *, name: str, namespace: str) -> ReleaseChange:
    """Uninstall ``name`` when present; ``absent`` otherwise."""
    try:
        return asyncio.run(_uninstall(settings, name, namespace))
    except Exception as exc:
        raise helm_error(exc, f"uninstalling {namespace}/{name}") from None
