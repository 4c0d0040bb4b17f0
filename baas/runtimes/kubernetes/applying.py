"""Server-side apply as an *ensure*: read what exists, apply, report what changed.

Objects are applied with field manager ``baas``. An object whose ``resourceVersion`` is the same
after the apply was already as wanted (``unchanged``); the API server does not bump it for a no-op
apply. Deletion removes only objects that exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from baas.errors import OperationError

FIELD_MANAGER = "baas"

Action = Literal["created", "updated", "unchanged", "deleted", "absent"]


@dataclass(frozen=True)
class ObjectChange:
    """What happened to one object."""

    kind: str
    name: str
    namespace: str | None
    action: Action

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}: {self.action}"


def object_key(manifest: dict[str, Any]) -> tuple[str, str, str | None]:
    meta = manifest.get("metadata", {})
    return manifest["kind"], meta["name"], meta.get("namespace")


def resource_for(dyn: Any, manifest: dict[str, Any]) -> Any:
    return dyn.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])


def _current_version(resource: Any, name: str, namespace: str | None) -> str | None:
    from kubernetes.dynamic.exceptions import NotFoundError

    try:
        obj = resource.get(name=name, namespace=namespace)
    except NotFoundError:
        return None
    return str(obj.metadata.resourceVersion)


def api_error(exc: Exception, what: str) -> OperationError:
    status = getattr(exc, "status", None)
    body = getattr(exc, "body", None) or getattr(exc, "summary", lambda: str(exc))()
    message = body
    if isinstance(body, (bytes, str)):
        import json

        try:
            message = json.loads(body).get("message", body)
        except (ValueError, AttributeError):
            message = body
    hint = {
        403: "the kubeconfig's user lacks RBAC permission for this; ask a cluster admin",
        404: "the API kind is not served by this cluster (missing CRD or API group?)",
        409: "another field manager owns these fields; re-run, or resolve the conflict by hand",
        422: "the API server rejected the object as invalid (see the message)",
    }.get(status or 0, "check the cluster is reachable and healthy (kubectl get --raw /readyz)")
    return OperationError(f"Kubernetes refused {what}: {message}", hint=hint)


def ensure_objects(
    api_client: Any,
    manifests: Iterable[dict[str, Any]],
    *,
    on_change: Callable[[ObjectChange], None] | None = None,
) -> list[ObjectChange]:
    """Server-side apply each manifest in order; return one :class:`ObjectChange` per object.

    Raises :class:`OperationError` with the API server's message on the first refusal (objects
    applied before it stay applied; re-running converges)."""
    from kubernetes.dynamic import DynamicClient

    dyn = DynamicClient(api_client)
    changes = []
    for manifest in manifests:
        kind, name, namespace = object_key(manifest)
        try:
            resource = resource_for(dyn, manifest)
            before = _current_version(resource, name, namespace)
            applied = dyn.server_side_apply(
                resource,
                body=manifest,
                name=name,
                namespace=namespace,
                field_manager=FIELD_MANAGER,
                force_conflicts=True,
            )
        except OperationError:
            raise
        except Exception as exc:
            raise api_error(exc, f"{kind} {name}") from None
        after = str(applied.metadata.resourceVersion)
        action: Action = (
            "created" if before is None else ("unchanged" if before == after else "updated")
        )
        change = ObjectChange(kind, name, namespace, action)
        changes.append(change)
        if on_change:
            on_change(change)
    return changes


def delete_objects(
    api_client: Any,
    manifests: Iterable[dict[str, Any]],
    *,
    on_change: Callable[[ObjectChange], None] | None = None,
) -> list[ObjectChange]:
    """Delete each object that exists (in reverse order); absent ones are reported ``absent``."""
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import NotFoundError

    dyn = DynamicClient(api_client)
    changes = []
    for manifest in reversed(list(manifests)):
        kind, name, namespace = object_key(manifest)
        try:
            resource_for(dyn, manifest).delete(name=name, namespace=namespace)
            action: Action = "deleted"
        except NotFoundError:
            action = "absent"
        except Exception as exc:
            raise api_error(exc, f"deleting {kind} {name}") from None
        change = ObjectChange(kind, name, namespace, action)
        changes.append(change)
        if on_change:
            on_change(change)
    return changes
