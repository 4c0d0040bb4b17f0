"""Helm values of ``charts/fabric`` for one organisation, built from the :class:`~baas.plan.Plan`.

Pure and deterministic: the same plan and options give the same values. The values carry names
only (nodes, Services, Secret names, Vault role and paths) — never key material; pods read keys
from the Secrets baas writes (:mod:`baas.secrets.kubernetes`) or from Vault.

One release per organisation: release name :func:`release_name`, namespace ``org.namespace``.

Each peer and orderer entry carries ``env``: the node's complete ``CORE_*`` / ``ORDERER_*``
environment from :func:`baas.nodeconfig.node_env` (the function the local runtime starts its
processes with), for the pod paths of :func:`~baas.runtimes.kubernetes.pod_paths.pod_files`, the
Service addresses of :class:`~baas.runtimes.kubernetes.addresses.KubernetesAddresses` and the
:data:`~baas.nodeconfig.KUBERNETES` tunables. The chart renders it as the node's ConfigMap and
adds only its own settings on top (``logging.*``, ``peer.gateway``, ``*.extraEnv``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from baas import nodeconfig
from baas.errors import UsageError
from baas.network.packaging import package_ids, served_chaincodes
from baas.plan import NodePlan, OrgPlan, Plan
from baas.runtimes.kubernetes.addresses import (
    DEFAULT_CLUSTER_DOMAIN,
    KubernetesAddresses,
    chaincode_service_name,
)
from baas.runtimes.kubernetes.pod_paths import pod_files
from baas.secrets import kubernetes as kube_secrets
from baas.secrets import vault_policies

SecretsMode = Literal["kubernetes", "vault"]
SECRETS_MODES: tuple[SecretsMode, ...] = ("kubernetes", "vault")

# Record fields of an identity in Vault KV v2 (baas.secrets.base.bundle_to_record).
_VAULT_FIELDS = {
    "signCert": "sign_cert",
    "signKey": "sign_key",
    "caCert": "ca_cert",
    "tlsCert": "tls_cert",
    "tlsKey": "tls_key",
    "tlsCaCert": "tls_ca_cert",
}

IDENTITY_DIGEST_ANNOTATION = "baas.io/identity-digest"
"""Pod template annotation carrying a node's identity digest (:mod:`pki.digests`;
``charts/fabric/templates/_node.tpl``): a renewed certificate changes it, so that node rolls."""

# Text that looks like private key material. Values must never contain it.
PRIVATE_KEY_PATTERN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PRIVATE KEY-----")


@dataclass(frozen=True)
class ValuesOptions:
    """Choices that are not in the topology.

    ``vault_mount`` is the KV v2 mount of :class:`baas.secrets.vault.VaultStore` (default
    ``baas``); ``vault_auth_path`` the Kubernetes auth method's path; ``image_registry`` prefixes
    the Fabric images (air-gapped clusters); ``cluster_domain`` is the cluster's DNS suffix.
    """

    secrets_mode: SecretsMode = "kubernetes"
    vault_mount: str = "baas"
    vault_auth_path: str = "auth/kubernetes"
    image_registry: str = ""
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN

    def __post_init__(self) -> None:
        if self.secrets_mode not in SECRETS_MODES:
            raise UsageError(
                f"unknown secrets mode {self.secrets_mode!r}",
                hint=f"choose one of: {', '.join(SECRETS_MODES)}",
            )


def release_name(org: OrgPlan) -> str:
    """Helm release name of an organisation: its name (a DNS-1123 label)."""
    return org.name


def service_account_name(org: OrgPlan) -> str:
    """The release's ServiceAccount, ``<org>-fabric`` (what the chart's fullname gives for release
    ``<org>``). The org's Vault Kubernetes-auth role must bind to it in ``org.namespace``."""
    return f"{release_name(org)}-fabric"


def _identity(node_or_name: NodePlan | str) -> dict[str, str]:
    identity = node_or_name if isinstance(node_or_name, str) else node_or_name.fqdn
    secrets = kube_secrets.secret_names(identity)
    return {"identity": identity, "mspSecret": secrets.msp, "tlsSecret": secrets.tls}


def node_env(plan: Plan, node: NodePlan, *, cluster_domain: str) -> dict[str, str]:
    """The environment of ``node``'s container (its ``env`` in the values), sorted by name:
    :func:`baas.nodeconfig.node_env` with the pod paths, Service addresses in
    ``cluster_domain`` and the :data:`~baas.nodeconfig.KUBERNETES` tunables. Pure; paths and
    names only, never key material. Raises UsageError when ``node`` is not in ``plan``."""
    return nodeconfig.node_env(
        plan,
        node,
        addresses=KubernetesAddresses(cluster_domain=cluster_domain),
        files=pod_files(node.role),
        tunables=nodeconfig.KUBERNETES,
    )


def _node(
    plan: Plan, node: NodePlan, *, digests: Mapping[str, str], cluster_domain: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": node.name, "fqdn": node.fqdn, "service": node.service}
    if node.role == "peer":
        entry["anchor"] = node.anchor
    entry.update(_identity(node))
    digest = digests.get(node.fqdn)
    if digest:
        entry["identityDigest"] = digest
    entry["env"] = node_env(plan, node, cluster_domain=cluster_domain)
    return entry


def org_values(
    plan: Plan,
    org: OrgPlan,
    options: ValuesOptions | None = None,
    *,
    identity_digests: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The values of ``org``'s release. Plain JSON-compatible data, keys in a stable order.

    ``identity_digests`` maps node FQDNs to the digests of their certificates
    (:func:`pki.digests.identity_digests`); a node found there gets ``identityDigest``, which
    the chart puts on its pod template (:data:`IDENTITY_DIGEST_ANNOTATION`) so that a renewed
    certificate restarts that node. Nodes not found there (and every node when it is ``None``)
    get no digest. Every node gets ``env`` (:func:`node_env`, addresses in
    ``options.cluster_domain``). Raises UsageError when the network or organisation name cannot
    form a Vault role name (see :func:`baas.secrets.vault_policies.org_access_name`).
    """
    opts = options or ValuesOptions()
    digests = identity_digests or {}

    def node(n: NodePlan) -> dict[str, Any]:
        return _node(plan, n, digests=digests, cluster_domain=opts.cluster_domain)

    channels = [ch.name for ch in plan.channels if org.name in ch.members and org.peers]
    return {
        "global": {"imageRegistry": opts.image_registry},
        "clusterDomain": opts.cluster_domain,
        "network": {
            "name": plan.network,
            "domain": plan.domain,
            "fabricVersion": plan.fabric_version,
            "fabricRelease": plan.fabric_release,
            "consensus": plan.consensus,
        },
        "organization": {
            "name": org.name,
            "mspId": org.msp_id,
            "domain": org.domain,
            "namespace": org.namespace,
        },
        "peers": [node(p) for p in org.peers],
        "orderers": [node(o) for o in org.orderers],
        "admin": _identity(org.admin),
        "channels": channels,
        "chaincodes": [
            {
                "name": cc.name,
                "channel": cc.channel,
                "version": cc.version,
                "label": cc.label,
                "service": chaincode_service_name(cc.name, cc.channel),
            }
            for cc in served_chaincodes(plan, org)
        ],
        "secrets": {
            "mode": opts.secrets_mode,
            "kubernetes": {
                "mspKeys": {
                    "signCert": kube_secrets.MSP_KEYS["sign_cert"],
                    "signKey": kube_secrets.MSP_KEYS["sign_key"],
                    "caCert": kube_secrets.MSP_KEYS["ca_cert"],
                    "tlsCaCert": kube_secrets.MSP_KEYS["tls_ca_cert"],
                    "config": kube_secrets.MSP_CONFIG_KEY,
                },
                "tlsKeys": {
                    "cert": kube_secrets.TLS_KEYS["tls_cert"],
                    "key": kube_secrets.TLS_KEYS["tls_key"],
                    "ca": kube_secrets.TLS_KEYS["tls_ca_cert"],
                },
            },
            "vault": {
                "role": vault_policies.org_access_name(plan.network, org.name),
                "mount": opts.vault_mount.strip("/"),
                "authPath": opts.vault_auth_path.strip("/"),
                "fields": dict(_VAULT_FIELDS),
            },
        },
        "chaincodeServers": _chaincode_servers(plan, org, opts),
        "serviceAccount": {"create": True, "name": service_account_name(org)},
    }


def _chaincode_servers(plan: Plan, org: OrgPlan, opts: ValuesOptions) -> dict[str, Any]:
    """Per served chaincode with an ``image``: the server image and the package ID it must
    announce (the org's own package, whose connection.json dials this org's server)."""
    with_image = [cc for cc in served_chaincodes(plan, org) if cc.image]
    if not with_image:
        return {}
    ids = package_ids(plan, org, addresses=KubernetesAddresses(cluster_domain=opts.cluster_domain))
    return {cc.name: {"image": cc.image, "packageId": ids[cc.name]} for cc in with_image}


def vault_identity_path(plan: Plan, org: OrgPlan, identity: str, *, mount: str = "baas") -> str:
    """KV v2 API path of an identity as the chart's Vault annotations read it:
    ``<mount>/data/<network>/<org>/<identity>``."""
    prefix = vault_policies.org_secret_prefix(plan.network, org.name)
    return f"{mount.strip('/')}/data/{prefix}/{identity}"


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of ``override`` onto ``base``: maps merge key by key, anything else (lists,
    scalars) replaces; a ``None`` in ``override`` deletes the key. Returns a new dict."""
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def key_material_paths(values: Any, path: str = "") -> list[str]:
    """Dotted paths of every string in ``values`` that looks like private key material
    (empty when none). Used to refuse values files that would put keys into Helm."""
    found: list[str] = []
    if isinstance(values, Mapping):
        for key, value in values.items():
            found.extend(key_material_paths(value, f"{path}.{key}" if path else str(key)))
    elif isinstance(values, list):
        for index, value in enumerate(values):
            found.extend(key_material_paths(value, f"{path}[{index}]"))
    elif isinstance(values, str | bytes):
        text = values.decode(errors="replace") if isinstance(values, bytes) else values
        if PRIVATE_KEY_PATTERN.search(text):
            found.append(path or "<root>")
    return found


def check_no_key_material(values: Mapping[str, Any], *, source: str) -> None:
    """Raise UsageError naming the paths (never the values) when ``values`` holds something that
    looks like a private key."""
    paths = key_material_paths(values)
    if paths:
        raise UsageError(
            f"{source} contains private key material at {', '.join(paths)}",
            hint="keys never go through Helm values: baas stores them as Kubernetes Secrets or in "
            "Vault (secrets.mode) and the chart mounts them",
        )
