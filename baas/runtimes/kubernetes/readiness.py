"""Waiting for workloads: "objects applied" is not "workloads ready".

:func:`workload_status` reads every StatefulSet and Deployment baas manages in the given
namespaces; :func:`wait_ready` polls it until all are ready or the timeout passes, then raises an
:class:`OperationError` that lists what is not ready and why pods may be missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from baas.errors import OperationError

SELECTOR = "app.kubernetes.io/managed-by=Helm,app.kubernetes.io/name=fabric"


@dataclass(frozen=True)
class Workload:
    kind: str
    namespace: str
    name: str
    ready: int
    wanted: int

    @property
    def is_ready(self) -> bool:
        return self.ready >= self.wanted

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name} {self.ready}/{self.wanted} ready"


def workload_status(api_client: Any, namespaces: Iterable[str]) -> list[Workload]:
    """Every baas-managed StatefulSet and Deployment in ``namespaces`` (missing namespaces give
    nothing)."""
    from kubernetes import client

    apps = client.AppsV1Api(api_client)
    found: list[Workload] = []
    for ns in namespaces:
        for sts in apps.list_namespaced_stateful_set(ns, label_selector=SELECTOR).items:
            found.append(
                Workload(
                    "StatefulSet",
                    ns,
                    sts.metadata.name,
                    sts.status.ready_replicas or 0,
                    sts.spec.replicas or 0,
                )
            )
        for dep in apps.list_namespaced_deployment(ns, label_selector=SELECTOR).items:
            found.append(
                Workload(
                    "Deployment",
                    ns,
                    dep.metadata.name,
                    dep.status.ready_replicas or 0,
                    dep.spec.replicas or 0,
                )
            )
    return found


def _pods_hint(api_client: Any, namespaces: Iterable[str]) -> str:
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    pods = sum(len(core.list_namespaced_pod(ns).items) for ns in namespaces)
    if pods == 0:
        return (
            "no pod exists yet: is a controller-manager running, and does the cluster have "
            "schedulable nodes? `kubectl get events -A` tells more"
        )
    return (
        "`kubectl get pods -A -l app.kubernetes.io/name=fabric` and `kubectl describe pod` tell why"
    )


def wait_ready(
    api_client: Any,
    namespaces: list[str],
    *,
    timeout: float,
    interval: float = 2.0,
    on_progress: Callable[[list[Workload]], None] | None = None,
) -> list[Workload]:
    """Poll until every workload is ready; return the final list. Raises
    :class:`OperationError` after ``timeout`` seconds naming each workload that is not ready."""
    deadline = time.monotonic() + timeout
    while True:
        workloads = workload_status(api_client, namespaces)
        if on_progress:
            on_progress(workloads)
        pending = [w for w in workloads if not w.is_ready]
        if not pending:
            return workloads
        if time.monotonic() >= deadline:
            listing = "; ".join(str(w) for w in pending)
            raise OperationError(
                f"objects are applied, but workloads are not ready after {timeout:.0f}s: {listing}",
                hint=_pods_hint(api_client, namespaces) + " (re-run with a longer --timeout, or "
                "--no-wait to stop after applying)",
            )
        time.sleep(interval)
