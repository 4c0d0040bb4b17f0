"""Connecting to a cluster: one API client built from a kubeconfig and an optional context."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from baas.errors import OperationError, UsageError


@dataclass(frozen=True)
class ClusterTarget:
    """Where to deploy: a kubeconfig file (``None`` → ``$KUBECONFIG`` or ``~/.kube/config``) and
    a context in it (``None`` → its current context)."""

    kubeconfig: Path | None = None
    context: str | None = None

    @property
    def kubeconfig_path(self) -> Path:
        if self.kubeconfig is not None:
            return self.kubeconfig
        env = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        return Path(env) if env else Path.home() / ".kube" / "config"


def api_client(target: ClusterTarget) -> object:
    """A ``kubernetes.client.ApiClient`` for ``target``. Raises :class:`UsageError` when the
    kubeconfig or context does not exist."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    path = target.kubeconfig_path
    if not path.is_file():
        raise UsageError(
            f"kubeconfig {path} does not exist", hint="pass --kubeconfig FILE or set KUBECONFIG"
        )
    try:
        return config.new_client_from_config(config_file=str(path), context=target.context)
    except ConfigException as exc:
        raise UsageError(
            f"cannot use kubeconfig {path}: {exc}",
            hint="check --context against `kubectl config get-contexts`",
        ) from None
    except Exception as exc:  # malformed kubeconfig files raise assorted errors
        raise OperationError(
            f"cannot load kubeconfig {path}: {type(exc).__name__}: {exc}",
            hint="check the file is a valid kubeconfig",
        ) from None
