"""What server-side apply *would* change, asked of the API server without changing anything.

For each manifest :func:`diff_objects` reads the live object; when it exists, it applies the
manifest with ``dryRun=All`` (field manager ``baas``, conflicts forced, as
:func:`baas.runtimes.kubernetes.applying.ensure_objects` does) and compares the server's
answer — defaults filled in, admission run, other managers' fields kept — with the live object
through the pure :func:`changed_fields`. Nothing is stored: a dry-run request never reaches etcd.

Only field *names* leave this module (``data``, ``spec.egress``): values, and with them the key
material of Secrets, never do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from baas.errors import OperationError
from baas.runtimes.kubernetes.applying import FIELD_MANAGER, api_error, object_key, resource_for

PlannedAction = Literal["create", "update", "unchanged", "delete"]

#: Metadata the API server maintains itself: it differs between any two reads of an object.
IGNORED_METADATA = frozenset(
    {"resourceVersion", "managedFields", "generation", "creationTimestamp", "uid"}
)
#: Top-level sections reported one level deeper (``spec.egress`` rather than ``spec``).
NESTED_SECTIONS = frozenset({"metadata", "spec"})


@dataclass(frozen=True)
class ObjectDiff:
    """What applying one object would do. ``fields`` names what an ``update`` changes
    (``data``, ``metadata.labels``, ``spec.egress``); ``note`` says why when it is not a
    field-by-field comparison (an immutable Job, credentials not issued yet). Never holds values.
    """

    kind: str
    name: str
    namespace: str | None
    action: PlannedAction
    fields: tuple[str, ...] = ()
    note: str = ""

    @property
    def target(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"

    def __str__(self) -> str:
        detail = ", ".join(self.fields)
        if self.note:
            detail = f"{detail}; {self.note}" if detail else self.note
        return f"{self.target}: {self.action}" + (f" ({detail})" if detail else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "action": self.action,
            "fields": list(self.fields),
            "note": self.note,
        }


# --------------------------------------------------------------------------- pure


def normalized(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` without ``status`` and without :data:`IGNORED_METADATA`. Pure; ``obj`` is not
    modified."""
    result = {k: v for k, v in obj.items() if k != "status"}
    meta = result.get("metadata")
    if isinstance(meta, Mapping):
        result["metadata"] = {k: v for k, v in meta.items() if k not in IGNORED_METADATA}
    return result


def changed_fields(live: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """Sorted names of the fields that differ between ``live`` and ``wanted`` (the dry-run
    answer), after :func:`normalized`. Pure.

    Top-level keys are named as they are (``data``, ``type``, ``roleRef``), except under
    ``metadata`` and ``spec``, which are named one level down (``metadata.labels``,
    ``spec.egress``). A field present on one side only counts as different. Empty when the
    objects are the same.
    """
    left, right = normalized(live), normalized(wanted)
    fields: list[str] = []
    for key in sorted(set(left) | set(right)):
        a, b = left.get(key), right.get(key)
        if a == b:
            continue
        if key in NESTED_SECTIONS and isinstance(a, Mapping) and isinstance(b, Mapping):
            fields += [
                f"{key}.{sub}" for sub in sorted(set(a) | set(b)) if a.get(sub) != b.get(sub)
            ]
        else:
            fields.append(key)
    return fields


def changed_keys(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """Sorted top-level keys whose values differ (or that one side lacks). Pure; used for Helm
    values, where the key names (``peers``, ``chartDigest``) are what a reader needs."""
    return sorted(k for k in set(current) | set(wanted) if current.get(k) != wanted.get(k))


def replaces_secret_type(live: Mapping[str, Any], manifest: Mapping[str, Any]) -> bool:
    """True when ``manifest`` is a Secret whose ``type`` differs from the live one's. A Secret's
    type is immutable, so baas deletes and re-creates it (a dry-run apply would be refused).
    Pure."""
    return manifest.get("kind") == "Secret" and live.get("type") != manifest.get("type")


def diff_of(
    manifest: Mapping[str, Any], live: Mapping[str, Any] | None, answer: Mapping[str, Any] | None
) -> ObjectDiff:
    """The :class:`ObjectDiff` of ``manifest`` given the live object (``None``: absent) and the
    dry-run ``answer`` (not used when the object is absent or its Secret type changes). Pure."""
    kind, name, namespace = object_key(dict(manifest))
    if live is None:
        return ObjectDiff(kind, name, namespace, "create")
    if replaces_secret_type(live, manifest):
        note = "re-created: the type of a Secret cannot change"
        return ObjectDiff(kind, name, namespace, "update", ("type",), note)
    fields = tuple(changed_fields(live, answer or {}))
    return ObjectDiff(kind, name, namespace, "update" if fields else "unchanged", fields)


# --------------------------------------------------------------------------- I/O


def read_live(dyn: Any, manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    """The live object named by ``manifest`` as a JSON-shaped dict; ``None`` when absent (the
    object, or its namespace). Raises :class:`OperationError` with the API server's message."""
    from kubernetes.dynamic.exceptions import NotFoundError

    kind, name, namespace = object_key(dict(manifest))
    try:
        obj = resource_for(dyn, dict(manifest)).get(name=name, namespace=namespace)
    except NotFoundError:
        return None
    except Exception as exc:
        raise api_error(exc, f"reading {kind} {name}") from None
    return dict(obj.to_dict())


def dry_run_apply(dyn: Any, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The object the API server would store if ``manifest`` were server-side applied now
    (``dryRun=All``, field manager ``baas``, conflicts forced). Stores nothing."""
    kind, name, namespace = object_key(dict(manifest))
    try:
        answer = dyn.server_side_apply(
            resource_for(dyn, dict(manifest)),
            body=dict(manifest),
            name=name,
            namespace=namespace,
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
            dry_run="All",
        )
    except Exception as exc:
        raise api_error(exc, f"a dry-run apply of {kind} {name}") from None
    return dict(answer.to_dict())


def diff_objects(api_client: Any, manifests: Iterable[Mapping[str, Any]]) -> list[ObjectDiff]:
    """One :class:`ObjectDiff` per manifest, in order: ``create`` when the object is absent,
    else ``update`` (with the differing fields) or ``unchanged`` from a dry-run apply. Read-only.

    Raises :class:`OperationError` with the API server's message (never object content) when
    a read or a dry run is refused — e.g. a manifest the server would reject as invalid."""
    from kubernetes.dynamic import DynamicClient

    dyn = DynamicClient(api_client)
    diffs = []
    for manifest in manifests:
        try:
            live = read_live(dyn, manifest)
            skip = live is None or replaces_secret_type(live, manifest)
            answer = None if skip else dry_run_apply(dyn, manifest)
        except OperationError:
            raise
        except Exception as exc:  # discovery failures (kind not served)
            kind, name, _ = object_key(dict(manifest))
            raise api_error(exc, f"{kind} {name}") from None
        diffs.append(diff_of(manifest, live, answer))
    return diffs


def diff_unknown(
    api_client: Any, manifests: Iterable[Mapping[str, Any]], *, note: str
) -> list[ObjectDiff]:
    """For objects whose content cannot be computed yet (it depends on credentials not issued):
    ``create`` when absent, else ``update`` of ``data`` with ``note``. ``manifests`` need only
    ``apiVersion``, ``kind`` and ``metadata.name``/``namespace``. Read-only."""
    from kubernetes.dynamic import DynamicClient

    dyn = DynamicClient(api_client)
    diffs = []
    for manifest in manifests:
        kind, name, namespace = object_key(dict(manifest))
        if read_live(dyn, manifest) is None:
            diffs.append(ObjectDiff(kind, name, namespace, "create", note=note))
        else:
            diffs.append(ObjectDiff(kind, name, namespace, "update", ("data",), note))
    return diffs
