"""The RBAC of the port-forward admin route (baas.runtimes.kubernetes.rbac): shape, strict
Kubernetes validation, and what the real test API server (``--authorization-mode=RBAC``)
grants a user bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes import client

import topology
from baas.errors import UsageError
from baas.plan import Plan, build
from baas.runtimes.kubernetes import namespaces, rbac
from baas.runtimes.kubernetes.admin_route import node_pod
from baas.runtimes.kubernetes.applying import delete_objects, ensure_objects
from tests.support.topologies import ISLANDS

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
KUBE_VERSION = "1.34"  # scripts/install-kube.sh pins kube-apiserver v1.34


def plan_of(path: Path) -> Plan:
    return build(topology.load(path).network)


def test_one_role_per_org_namespace_naming_its_node_pods() -> None:
    plan = plan_of(REPO / "examples" / "two-orgs.yaml")
    roles = rbac.admin_route_roles(plan)
    assert [r["metadata"]["namespace"] for r in roles] == [
        "supplychain-ordererorg",
        "supplychain-org1",
        "supplychain-org2",
    ]
    org1 = roles[1]
    assert org1["apiVersion"] == "rbac.authorization.k8s.io/v1" and org1["kind"] == "Role"
    assert org1["metadata"] == {
        "name": "baas-admin-route",
        "namespace": "supplychain-org1",
        "labels": {
            "app.kubernetes.io/managed-by": "baas",
            "baas.io/network": "supplychain",
            "baas.io/org": "org1",
        },
    }
    assert org1["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
        {
            "apiGroups": [""],
            "resources": ["pods/portforward"],
            "resourceNames": ["peer0-0", "peer1-0"],
            "verbs": ["create", "get"],
        },
    ]
    assert roles[0]["rules"][1]["resourceNames"] == ["orderer0-0", "orderer1-0", "orderer2-0"]


@pytest.mark.parametrize("path", [*EXAMPLES, None], ids=lambda p: p.stem if p else "islands")
def test_roles_cover_every_node_and_nothing_else(path: Path | None) -> None:
    plan = plan_of(path) if path else build(topology.loads(ISLANDS)[0])
    roles = {r["metadata"]["namespace"]: r for r in rbac.admin_route_roles(plan)}
    assert set(roles) == {o.namespace for o in plan.orgs}  # not the toolbox
    for org in plan.orgs:
        rules = roles[org.namespace]["rules"]
        forwardable = {
            name
            for rule in rules
            if "pods/portforward" in rule["resources"]
            for name in rule["resourceNames"]
        }
        assert forwardable == {node_pod(n) for n in org.nodes}
        resources = {res for rule in rules for res in rule["resources"]}
        assert resources == {"pods", "pods/portforward"}  # no exec, no secrets
        assert all(rule["apiGroups"] == [""] for rule in rules)
        assert all("*" not in rule["verbs"] for rule in rules)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_manifests_pass_kubernetes_validate_strict(path: Path) -> None:
    plan = plan_of(path)
    docs = [
        *rbac.admin_route_roles(plan),
        *rbac.admin_route_role_bindings(plan, users=["alice"], groups=["fabric-admins"]),
    ]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_bindings_name_their_subjects_and_refuse_none() -> None:
    plan = plan_of(REPO / "examples" / "minimal.yaml")
    (binding,) = rbac.admin_route_role_bindings(plan, users=["bob", "alice", "bob"], groups=["g"])
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": rbac.ADMIN_ROUTE_ROLE,
    }
    assert [(s["kind"], s["name"]) for s in binding["subjects"]] == [
        ("User", "alice"),
        ("User", "bob"),
        ("Group", "g"),
    ]
    with pytest.raises(UsageError):
        rbac.admin_route_role_bindings(plan)


def test_output_is_deterministic() -> None:
    path = REPO / "examples" / "bft.yaml"
    assert rbac.admin_route_roles(plan_of(path)) == rbac.admin_route_roles(plan_of(path))


# ------------------------------------------------------------------------ on the API server

USER = "rbac-test-admin"


@pytest.fixture
def bound(api: client.ApiClient) -> Iterator[Plan]:
    """two-orgs.yaml renamed ``rbacnet``: its namespaces, Roles and RoleBindings to USER applied
    (deleted afterwards)."""
    text = (
        (REPO / "examples" / "two-orgs.yaml")
        .read_text()
        .replace("name: supplychain", "name: rbacnet")
    )
    plan = build(topology.loads(text)[0])
    objects = [
        *namespaces.namespace_manifests(plan),
        *rbac.admin_route_roles(plan),
        *rbac.admin_route_role_bindings(plan, users=[USER]),
    ]
    ensure_objects(api, objects)
    try:
        yield plan
    finally:
        delete_objects(api, objects)


def _allowed(
    api: client.ApiClient,
    namespace: str,
    verb: str,
    resource: str,
    name: str = "",
    subresource: str = "",
) -> bool:
    attributes: dict[str, Any] = {
        "namespace": namespace,
        "verb": verb,
        "resource": resource,
        "subresource": subresource or None,
        "name": name or None,
    }
    review = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=USER, resource_attributes=client.V1ResourceAttributes(**attributes)
        )
    )
    result = client.AuthorizationV1Api(api).create_subject_access_review(review)
    return bool(result.status.allowed)


def test_the_api_server_grants_the_route_and_nothing_more(
    api: client.ApiClient, bound: Plan
) -> None:
    org1, orderers = bound.org("org1"), bound.org("ordererorg")
    for verb in ("create", "get"):  # SPDY / Kubernetes >= 1.35, and WebSocket before 1.35
        assert _allowed(api, org1.namespace, verb, "pods", "peer0-0", "portforward")
        assert _allowed(api, orderers.namespace, verb, "pods", "orderer2-0", "portforward")
        # not a chaincode server, not another namespace, not the toolbox
        assert not _allowed(api, org1.namespace, verb, "pods", "cc-basic-0", "portforward")
        assert not _allowed(api, "default", verb, "pods", "peer0-0", "portforward")
        toolbox = namespaces.toolbox_namespace(bound)
        assert not _allowed(api, toolbox, verb, "pods", "peer0-0", "portforward")
    assert _allowed(api, org1.namespace, "list", "pods")
    assert _allowed(api, org1.namespace, "get", "pods", "peer1-0")
    assert not _allowed(api, org1.namespace, "create", "pods", "peer0-0", "exec")
    assert not _allowed(api, org1.namespace, "get", "secrets")
    assert not _allowed(api, org1.namespace, "delete", "pods", "peer0-0")
    assert not _allowed(api, org1.namespace, "create", "pods")
