"""Secret store on Kubernetes: two Secrets per identity in the organisation's namespace.

Namespace ``<network>-<org>``. For identity ``peer0.org1.example.com`` (base name ``peer0``):

* ``peer0-tls``, type ``kubernetes.io/tls``: ``tls.crt``, ``tls.key``, ``ca.crt`` (TLS CA).
* ``peer0-msp``, type ``Opaque``: ``cert.pem`` (signcert), ``key.pem`` (keystore), ``cacert.pem``,
  ``tlscacert.pem``, ``config.yaml`` (NodeOUs) — mount with ``items`` into the MSP layout.

Why two Secrets: the ``kubernetes.io/tls`` type has a fixed schema that standard consumers
(ingress controllers, sidecars, cert tooling) understand, while the MSP needs five differently
named files; separate objects also let TLS be rotated and mounted without touching the signing
identity. Both carry the labels ``app.kubernetes.io/managed-by: baas``, ``baas.io/network``,
``baas.io/org``, ``baas.io/identity`` (base name), ``baas.io/role``, ``baas.io/material``
(``msp``/``tls``) and the annotations ``baas.io/identity-name`` (full name) and ``baas.io/msp-id``.

Object *building* is pure (:func:`build_secrets`). I/O goes through the small :class:`SecretApi`
seam; :class:`CoreV1SecretApi` implements it with the official client and server-side apply
(field manager ``baas``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from baas.errors import OperationError, UsageError
from baas.secrets.base import (
    MSP_CONFIG_YAML,
    Change,
    SecretStore,
    bundle_from_record,
    bundle_to_record,
    validated,
)
from pki.bundle import IdentityBundle
from topology import names, rules

FIELD_MANAGER = "baas"
MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_NETWORK = "baas.io/network"
LABEL_ORG = "baas.io/org"
LABEL_IDENTITY = "baas.io/identity"
LABEL_ROLE = "baas.io/role"
LABEL_MATERIAL = "baas.io/material"
ANNOTATION_NAME = "baas.io/identity-name"
ANNOTATION_MSP_ID = "baas.io/msp-id"

TLS_KEYS = {"tls_cert": "tls.crt", "tls_key": "tls.key", "tls_ca_cert": "ca.crt"}
MSP_KEYS = {
    "sign_cert": "cert.pem",
    "sign_key": "key.pem",
    "ca_cert": "cacert.pem",
    "tls_ca_cert": "tlscacert.pem",
}
MSP_CONFIG_KEY = "config.yaml"

_LABEL_MAX = 63
_SUFFIX_ROOM = len("-msp")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


# --------------------------------------------------------------------------- pure: names


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def dns_label(text: str, *, max_len: int = _LABEL_MAX) -> str:
    """A DNS-1123 label derived from ``text``. Pure.

    Lower-cases, turns every other character into ``-`` and trims. When that loses information
    (characters replaced, text empty or too long) an 8-hex-digit hash of ``text`` is appended so
    different inputs keep different results; names that differ only in case still collide.
    """
    lowered = text.lower()
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", lowered)).strip("-")
    if cleaned == lowered and 0 < len(cleaned) <= max_len:
        return cleaned
    suffix = _short_hash(text)
    head = cleaned[: max_len - len(suffix) - 1].rstrip("-")
    return f"{head}-{suffix}" if head else f"x{suffix}"


def identity_base_name(identity_name: str) -> str:
    """Base of the Secret names: ``peer0.org1.example.com`` → ``peer0``,
    ``Admin@org1.example.com`` → ``admin``, ``alice@org1.example.com`` → ``alice``. Pure.

    Node names give their first DNS label, user names the part before ``@``. Room is left for
    the ``-msp``/``-tls`` suffix so results stay DNS-1123 labels (<= 63 characters).
    """
    local = identity_name.split("@", 1)[0] if "@" in identity_name else identity_name.split(".")[0]
    base = dns_label(local, max_len=_LABEL_MAX - _SUFFIX_ROOM)
    if base != local.lower():  # lossy: keep identities with similar local parts apart
        base = dns_label(f"{local}#{identity_name}", max_len=_LABEL_MAX - _SUFFIX_ROOM)
    return base


@dataclass(frozen=True)
class SecretNames:
    """The two Secret names of one identity."""

    msp: str
    tls: str


def secret_names(identity_name: str) -> SecretNames:
    """``peer0.org1.example.com`` → ``SecretNames(msp='peer0-msp', tls='peer0-tls')``. Pure."""
    base = identity_base_name(identity_name)
    return SecretNames(msp=f"{base}-msp", tls=f"{base}-tls")


def org_namespace(network: str, org: str) -> str:
    """``<network>-<org>``; raises UsageError when that is not a DNS-1123 label. Pure."""
    namespace = names.namespace_of(network, org)
    if rules.dns_label_problem(namespace) is not None:
        raise UsageError(
            f"namespace {namespace!r} (network-org) is not a valid Kubernetes namespace name",
            hint="network and organisation names must be lower-case letters, digits and '-', "
            "63 characters at most together",
        )
    return namespace


def label_value(text: str) -> str:
    """``text`` if it is a valid label value, else a DNS label derived from it (with hash). Pure."""
    if len(text) <= _LABEL_MAX and _LABEL_VALUE.match(text):
        return text
    return dns_label(text)


def org_selector(network: str, org: str) -> str:
    """Label selector of every Secret this store manages for one organisation. Pure."""
    return (
        f"{MANAGED_BY}={FIELD_MANAGER},{LABEL_NETWORK}={label_value(network)},"
        f"{LABEL_ORG}={label_value(org)}"
    )


# --------------------------------------------------------------------------- pure: objects


def _b64(value: str | bytes) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode("ascii")


def build_secrets(network: str, bundle: IdentityBundle) -> list[dict[str, Any]]:
    """The ``[msp, tls]`` Secret manifests for one identity, ready for server-side apply. Pure.

    The result holds the key material (base64): never log or print it.
    """
    namespace = org_namespace(network, bundle.org)
    names = secret_names(bundle.name)
    record = bundle_to_record(bundle)

    def metadata(name: str, material: str) -> dict[str, Any]:
        return {
            "name": name,
            "namespace": namespace,
            "labels": {
                MANAGED_BY: FIELD_MANAGER,
                LABEL_NETWORK: label_value(network),
                LABEL_ORG: label_value(bundle.org),
                LABEL_IDENTITY: identity_base_name(bundle.name),
                LABEL_ROLE: bundle.role,
                LABEL_MATERIAL: material,
            },
            "annotations": {ANNOTATION_NAME: bundle.name, ANNOTATION_MSP_ID: bundle.msp_id},
        }

    msp_data = {key: _b64(record[field]) for field, key in MSP_KEYS.items()}
    msp_data[MSP_CONFIG_KEY] = _b64(MSP_CONFIG_YAML)
    msp = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(names.msp, "msp"),
        "type": "Opaque",
        "data": msp_data,
    }
    tls = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(names.tls, "tls"),
        "type": "kubernetes.io/tls",
        "data": {key: _b64(record[field]) for field, key in TLS_KEYS.items()},
    }
    return [msp, tls]


def needs_apply(existing: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> bool:
    """True when ``existing`` (as read from the API) differs from ``desired``. Pure.

    Compares the type, the whole ``data`` map and the desired labels/annotations (extra labels or
    annotations added by others are ignored).
    """
    if existing is None:
        return True
    if existing.get("type") != desired["type"] or (existing.get("data") or {}) != desired["data"]:
        return True
    have = existing.get("metadata") or {}
    want = desired["metadata"]
    for part in ("labels", "annotations"):
        current = have.get(part) or {}
        if any(current.get(k) != v for k, v in want[part].items()):
            return True
    return False


def bundle_from_secrets(msp: Mapping[str, Any], tls: Mapping[str, Any]) -> IdentityBundle:
    """Rebuild a bundle from its two Secrets (as read from the API). Pure.

    Raises OperationError naming the Secrets when a key is missing or not base64.
    """
    meta = msp.get("metadata") or {}
    tls_name = (tls.get("metadata") or {}).get("name", "?")
    where = f"secrets {meta.get('namespace', '?')}/{meta.get('name', '?')} and {tls_name}"
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    record: dict[str, Any] = {
        "org": labels.get(LABEL_ORG),
        "msp_id": annotations.get(ANNOTATION_MSP_ID),
        "name": annotations.get(ANNOTATION_NAME),
        "role": labels.get(LABEL_ROLE),
    }
    try:
        for secret, keys in ((msp, MSP_KEYS), (tls, TLS_KEYS)):
            data = secret.get("data") or {}
            for field, key in keys.items():
                if key in data:
                    record[field] = base64.b64decode(data[key], validate=True).decode("ascii")
    except ValueError:
        raise OperationError(
            f"{where} hold data that is not base64 PEM",
            hint="delete the Secrets and store the identities again",
        ) from None
    return bundle_from_record(record, where=where)


# --------------------------------------------------------------------------- I/O seam


class SecretApi(Protocol):
    """What the store needs from Kubernetes; plain JSON-shaped dicts in and out.

    Implementations raise OperationError (with a hint) for every failure except "not found",
    which :meth:`get_secret` reports as ``None`` and :meth:`delete_secret` ignores.
    """

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    def apply_secret(self, manifest: Mapping[str, Any]) -> None: ...

    def delete_secret(self, namespace: str, name: str) -> None: ...

    def list_secrets(self, namespace: str, label_selector: str) -> list[dict[str, Any]]: ...

    def describe(self) -> str: ...


class KubernetesSettings(BaseModel):
    """How to reach the API server: a kubeconfig (file, context) or the in-cluster account."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False


class KubernetesStore(SecretStore):
    """Identities as Secrets (see the module docstring). ``api`` is the injected I/O seam."""

    kind = "kubernetes"

    def __init__(self, api: SecretApi) -> None:
        self._api = api

    @classmethod
    def from_settings(cls, **settings: object) -> KubernetesStore:
        parsed: KubernetesSettings = validated(KubernetesSettings, settings, "kubernetes")
        return cls(CoreV1SecretApi.connect(parsed))

    def describe(self) -> str:
        return f"kubernetes secrets via {self._api.describe()}"

    def ensure_identity(self, network: str, bundle: IdentityBundle) -> Change:
        """Ensure both Secrets of ``bundle``. Ownership of every existing Secret is checked before
        anything is written, so a refusal leaves the identity untouched."""
        wanted = build_secrets(network, bundle)
        current = [
            self._api.get_secret(d["metadata"]["namespace"], d["metadata"]["name"]) for d in wanted
        ]
        for existing in current:
            if existing is not None:
                _check_owner(existing, bundle.name)
        results: list[Change] = []
        for desired, existing in zip(wanted, current, strict=True):
            meta = desired["metadata"]
            if existing is None:
                self._api.apply_secret(desired)
                results.append(Change.CREATED)
                continue
            if not needs_apply(existing, desired):
                results.append(Change.UNCHANGED)
                continue
            if existing.get("type") != desired["type"]:  # the type of a Secret is immutable
                self._api.delete_secret(meta["namespace"], meta["name"])
            self._api.apply_secret(desired)
            results.append(Change.UPDATED)
        if all(r is Change.CREATED for r in results):
            return Change.CREATED
        if all(r is Change.UNCHANGED for r in results):
            return Change.UNCHANGED
        return Change.UPDATED

    def read_identity(self, network: str, org: str, name: str) -> IdentityBundle | None:
        namespace = org_namespace(network, org)
        names = secret_names(name)
        msp = self._api.get_secret(namespace, names.msp)
        tls = self._api.get_secret(namespace, names.tls)
        if msp is None and tls is None:
            return None
        if msp is None or tls is None:
            missing = names.msp if msp is None else names.tls
            raise OperationError(
                f"identity {name} is incomplete in namespace {namespace}: secret {missing} is "
                "missing",
                hint="store the identity again to recreate it",
            )
        _check_owner(msp, name)
        _check_owner(tls, name)
        return bundle_from_secrets(msp, tls)

    def list_identities(self, network: str, org: str) -> list[str]:
        return sorted({_identity_name(s) for s in self._org_secrets(network, org)} - {""})

    def delete_org(self, network: str, org: str) -> int:
        secrets = self._org_secrets(network, org)
        for secret in secrets:
            meta = secret.get("metadata") or {}
            self._api.delete_secret(str(meta.get("namespace")), str(meta.get("name")))
        return len({_identity_name(s) for s in secrets} - {""})

    def _org_secrets(self, network: str, org: str) -> list[dict[str, Any]]:
        return self._api.list_secrets(org_namespace(network, org), org_selector(network, org))


def _identity_name(secret: Mapping[str, Any]) -> str:
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(ANNOTATION_NAME, ""))


def _check_owner(secret: Mapping[str, Any], identity_name: str) -> None:
    """Refuse to touch a Secret that belongs to another identity or is not managed by baas."""
    meta = secret.get("metadata") or {}
    owner = _identity_name(secret)
    labels = meta.get("labels") or {}
    if labels.get(MANAGED_BY) != FIELD_MANAGER or owner != identity_name:
        raise UsageError(
            f"secret {meta.get('namespace')}/{meta.get('name')} already exists and does not belong "
            f"to identity {identity_name}"
            + (f" (it belongs to {owner})" if owner else " (it is not managed by baas)"),
            hint="two identities map to the same Secret name, or another tool owns it: rename the "
            "identity or delete that Secret",
        )


# --------------------------------------------------------------------------- official client


class CoreV1SecretApi:
    """:class:`SecretApi` over the official ``kubernetes`` client (``CoreV1Api``).

    Writes use server-side apply (``application/apply-patch+yaml``, field manager ``baas``,
    ``force=True``: baas owns these objects).
    """

    def __init__(self, core_v1: Any) -> None:
        self._core = core_v1

    @classmethod
    def connect(cls, settings: KubernetesSettings) -> CoreV1SecretApi:
        """Load credentials (kubeconfig or in-cluster) and build a ``CoreV1Api``."""
        from kubernetes import client, config

        configuration = client.Configuration()
        load_incluster: Any = config.load_incluster_config  # untyped in the client
        load_kube: Any = config.load_kube_config
        try:
            if settings.in_cluster:
                load_incluster(client_configuration=configuration)
            else:
                load_kube(
                    config_file=str(settings.kubeconfig) if settings.kubeconfig else None,
                    context=settings.context,
                    client_configuration=configuration,
                )
        except (config.ConfigException, OSError) as exc:
            raise OperationError(
                f"could not load Kubernetes credentials: {type(exc).__name__}",
                hint="set KUBECONFIG or pass kubeconfig=/context=, or in_cluster=True inside a pod",
            ) from None
        return cls(client.CoreV1Api(client.ApiClient(configuration)))

    def describe(self) -> str:
        host = getattr(getattr(self._core.api_client, "configuration", None), "host", "?")
        return f"API server {host}"

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self._call(
            "read",
            namespace,
            name,
            lambda: self._core.read_namespaced_secret(name, namespace),
            not_found_ok=True,
        )
        return None if obj is None else dict(self._core.api_client.sanitize_for_serialization(obj))

    def apply_secret(self, manifest: Mapping[str, Any]) -> None:
        namespace, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
        self._call(
            "apply",
            namespace,
            name,
            lambda: self._core.patch_namespaced_secret(
                name,
                namespace,
                dict(manifest),
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type="application/apply-patch+yaml",
            ),
        )

    def delete_secret(self, namespace: str, name: str) -> None:
        self._call(
            "delete",
            namespace,
            name,
            lambda: self._core.delete_namespaced_secret(name, namespace),
            not_found_ok=True,
        )

    def list_secrets(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        result = self._call(
            "list",
            namespace,
            "*",
            lambda: self._core.list_namespaced_secret(namespace, label_selector=label_selector),
        )
        items = self._core.api_client.sanitize_for_serialization(result).get("items") or []
        return [dict(i) for i in items]

    def _call(
        self,
        verb: str,
        namespace: str,
        name: str,
        fn: Callable[[], Any],
        *,
        not_found_ok: bool = False,
    ) -> Any:
        """Run ``fn``; client errors become OperationError, a 404 gives ``None`` if allowed."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return fn()
        except ApiException as exc:
            if exc.status == 404 and not_found_ok:
                return None
            raise kube_error(
                verb, namespace, name, exc.status, _status_message(exc.body), host=self.describe()
            ) from None
        except HTTPError:
            raise OperationError(
                f"could not reach the Kubernetes {self.describe()} to {verb} secret "
                f"{namespace}/{name}",
                hint="is the cluster running? check KUBECONFIG and the current context",
            ) from None


def _status_message(body: Any) -> str:
    """The ``message`` of a Kubernetes Status body (never the request body)."""
    import json

    try:
        parsed = json.loads(body) if isinstance(body, str | bytes) else {}
    except ValueError:
        return ""
    return str(parsed.get("message", "")) if isinstance(parsed, dict) else ""


def kube_error(
    verb: str, namespace: str, name: str, status: int | None, message: str, *, host: str
) -> OperationError:
    """An OperationError for a failed Secret call, with a hint chosen by HTTP status. Pure."""
    what = f"secret {namespace}/{name}"
    hints = {
        401: "the Kubernetes credentials are invalid or expired: refresh the kubeconfig",
        403: f"the Kubernetes identity lacks RBAC permission to {verb} secrets in namespace "
        f"{namespace}",
        404: f"namespace {namespace} does not exist: create the organisation's namespace first",
        409: "another field manager owns these fields; baas applies with force, so retry",
        422: "the API server rejected the object; report this as a baas bug",
    }
    hint = hints.get(status or 0, f"check the {host}")
    detail = f": {message}" if message else ""
    return OperationError(f"Kubernetes refused to {verb} {what} (HTTP {status}){detail}", hint=hint)
