"""The RBAC an administrator needs for baas's admin route on Kubernetes (documentation as code).

baas's admin client reaches the nodes through the API server's ``pods/portforward``
subresource (:mod:`baas.runtimes.kubernetes.admin_route`). Port-forwarded connections enter the
pod's network namespace, so no NetworkPolicy admits or refuses them
(:mod:`baas.runtimes.kubernetes.policies`): RBAC alone decides who may open them. The Role
below is the whole of what the route needs in an organisation's namespace:

* ``pods/portforward`` ``create`` and ``get``, only on the organisation's node pods
  (``<node>-0``, :func:`baas.runtimes.kubernetes.admin_route.node_pod`): the Python client opens
  a forward with a WebSocket ``GET``, which API servers before Kubernetes 1.35 authorise as
  ``get``; 1.35 (``AuthorizePodWebsocketUpgradeCreatePermission``) and SPDY clients such as
  older ``kubectl`` require ``create``. Chaincode servers and ``helm test`` pods are not named:
  the admin client never dials them;
* ``pods`` ``get`` and ``list``, to see whether a node's pod exists and runs before dialling it.

Nothing else: no ``pods/exec``, no Secrets, no write on any workload. Deploying (``baas up``)
needs far more (namespaces, Secrets, Helm releases) and is not described here. baas never
applies these objects itself; cluster operators bind the Role to the people or groups who
administer each organisation (:func:`admin_route_role_bindings`), e.g. with
``kubectl apply -f``. Pure functions over the :class:`baas.plan.Plan`; output sorted by
namespace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from baas.errors import UsageError
from baas.plan import OrgPlan, Plan
from baas.runtimes.kubernetes.admin_route import node_pod
from baas.runtimes.kubernetes.namespaces import (
    LABEL_MANAGED_BY,
    LABEL_NETWORK,
    LABEL_ORG,
    MANAGED_BY,
)

__all__ = ["ADMIN_ROUTE_ROLE", "admin_route_role_bindings", "admin_route_roles"]

ADMIN_ROUTE_ROLE = "baas-admin-route"
"""Name of the Role (and of its RoleBindings) in every organisation namespace."""

RBAC_API = "rbac.authorization.k8s.io"


def _metadata(plan: Plan, org: OrgPlan) -> dict[str, Any]:
    return {
        "name": ADMIN_ROUTE_ROLE,
        "namespace": org.namespace,
        "labels": {LABEL_MANAGED_BY: MANAGED_BY, LABEL_NETWORK: plan.network, LABEL_ORG: org.name},
    }


def _orgs(plan: Plan) -> list[OrgPlan]:
    return sorted(plan.orgs, key=lambda o: o.namespace)


def admin_route_roles(plan: Plan) -> list[dict[str, Any]]:
    """One namespaced ``Role`` named :data:`ADMIN_ROUTE_ROLE` per organisation namespace of
    ``plan``, sorted by namespace, granting exactly what the port-forward admin route uses
    (module docstring): ``pods`` get/list, and ``pods/portforward`` create/get on that
    organisation's node pods only. Plain manifests, valid ``rbac.authorization.k8s.io/v1``."""
    out: list[dict[str, Any]] = []
    for org in _orgs(plan):
        pods = sorted(node_pod(node) for node in org.nodes)
        out.append(
            {
                "apiVersion": f"{RBAC_API}/v1",
                "kind": "Role",
                "metadata": _metadata(plan, org),
                "rules": [
                    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
                    {
                        "apiGroups": [""],
                        "resources": ["pods/portforward"],
                        "resourceNames": pods,
                        "verbs": ["create", "get"],
                    },
                ],
            }
        )
    return out


def admin_route_role_bindings(
    plan: Plan, *, users: Sequence[str] = (), groups: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """A ``RoleBinding`` per organisation namespace of ``plan`` (sorted by namespace, named
    :data:`ADMIN_ROUTE_ROLE`) giving the Role of :func:`admin_route_roles` to ``users`` and
    ``groups`` (names as the cluster's authenticator reports them). To let different people
    administer different organisations, bind per namespace yourself: these objects are
    examples of the shape, for the common one-admin-team case.

    Raises :class:`UsageError` when neither users nor groups are given."""
    if not users and not groups:
        raise UsageError(
            "a RoleBinding needs at least one subject",
            hint="name the users or groups that administer the network",
        )
    subjects = [{"apiGroup": RBAC_API, "kind": "User", "name": u} for u in sorted(set(users))]
    subjects += [{"apiGroup": RBAC_API, "kind": "Group", "name": g} for g in sorted(set(groups))]
    return [
        {
            "apiVersion": f"{RBAC_API}/v1",
            "kind": "RoleBinding",
            "metadata": _metadata(plan, org),
            "roleRef": {"apiGroup": RBAC_API, "kind": "Role", "name": ADMIN_ROUTE_ROLE},
            "subjects": [dict(s) for s in subjects],
        }
        for org in _orgs(plan)
    ]
