"""Namespaces of a network: one per organisation, plus the toolbox, baas's own namespace.

The toolbox (``<network>-toolbox``) holds what baas itself needs inside the cluster and belongs
to no organisation: today the Vault TokenReview reviewer ServiceAccount
(:mod:`baas.runtimes.kubernetes.vault_auth`). It runs no pods and no admin traffic comes from it:
baas's admin client reaches the nodes from the administrator's machine through ``pods/portforward``
(:mod:`baas.runtimes.kubernetes.admin_route`, gated by RBAC, see
:mod:`baas.runtimes.kubernetes.rbac`), and its NetworkPolicies leave it ``default-deny`` only.

Pure functions over the :class:`baas.plan.Plan`; the returned manifests are plain dicts ready for
``kubectl apply`` / the Kubernetes client. Every namespace enforces the Pod Security Admission
``restricted`` profile (enforce, audit and warn), so nothing privileged can run in it.

The label keys below are a contract shared with ``charts/fabric`` (pod labels) and
:mod:`baas.runtimes.kubernetes.policies` (selectors). They never change once released.
"""

from __future__ import annotations

from typing import Any

from baas.errors import UsageError
from baas.plan import Plan
from topology import names

# Pod labels set by charts/fabric (and selected by the NetworkPolicies).
LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_NODE = "baas.io/node"
LABEL_ORG = "baas.io/org"
LABEL_NETWORK = "baas.io/network"
LABEL_CHAINCODE = "baas.io/chaincode"

APP_NAME = "fabric"
"""Value of :data:`LABEL_NAME` on every pod of the chart."""
MANAGED_BY = "baas"
"""Value of :data:`LABEL_MANAGED_BY` on every namespace and policy baas creates."""

COMPONENT_PEER = "peer"
COMPONENT_ORDERER = "orderer"
COMPONENT_CHAINCODE = "chaincode"
COMPONENT_TEST = "test"
"""Values of :data:`LABEL_COMPONENT`. ``test`` marks ``helm test`` pods."""

# Namespace labels.
LABEL_ROLE = "baas.io/role"
ROLE_TOOLBOX = "toolbox"
LABEL_MONITORING = "baas.io/monitoring"
"""Namespaces labelled ``baas.io/monitoring=true`` (not created by baas: the cluster's Prometheus
namespace, for instance) may scrape the nodes' operations port."""
MONITORING_VALUE = "true"
LABEL_NAMESPACE_NAME = "kubernetes.io/metadata.name"
"""Set by the API server on every namespace (Kubernetes >= 1.22); policies select by it."""

TOOLBOX_SUFFIX = "toolbox"

PSA_LEVEL = "restricted"
PSA_LABELS: dict[str, str] = {
    f"pod-security.kubernetes.io/{mode}": PSA_LEVEL for mode in ("enforce", "audit", "warn")
}


def toolbox_namespace(plan: Plan) -> str:
    """``<network>-toolbox``: baas's own namespace (the Vault reviewer ServiceAccount), shared by
    no organisation and running no pods.

    Raises :class:`UsageError` when an organisation is itself called ``toolbox``, since its
    namespace would be the same.
    """
    name = names.namespace_of(plan.network, TOOLBOX_SUFFIX)
    clash = [org.name for org in plan.orgs if org.namespace == name]
    if clash:
        raise UsageError(
            f"organisation {clash[0]!r} would share the namespace {name!r} with baas's toolbox",
            hint=f"rename the organisation (any name but {TOOLBOX_SUFFIX!r})",
        )
    return name


def _namespace(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": dict(sorted(labels.items()))},
    }


def namespace_manifests(plan: Plan) -> list[dict[str, Any]]:
    """The Namespace objects of ``plan``, sorted by name: one per organisation (``<network>-<org>``,
    labelled with the network and organisation) and the toolbox (labelled
    ``baas.io/role=toolbox``). Every one carries ``app.kubernetes.io/managed-by=baas`` and the
    Pod Security Admission ``restricted`` labels.

    Raises :class:`UsageError` when two of them would have the same name (see
    :func:`toolbox_namespace`).
    """
    common = {LABEL_NETWORK: plan.network, LABEL_MANAGED_BY: MANAGED_BY, **PSA_LABELS}
    manifests = [_namespace(org.namespace, {**common, LABEL_ORG: org.name}) for org in plan.orgs]
    manifests.append(_namespace(toolbox_namespace(plan), {**common, LABEL_ROLE: ROLE_TOOLBOX}))
    return sorted(manifests, key=lambda m: str(m["metadata"]["name"]))
