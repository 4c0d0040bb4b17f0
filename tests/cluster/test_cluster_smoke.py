"""The single-node cluster really runs pods: scheduling, pod networking, Services (ClusterIP and
DNS), NetworkPolicy enforcement and pod logs, all with the locally built busybox image."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.support.cluster import (
    CLUSTER_DOMAIN,
    NodeCluster,
    busybox_pod,
    wait_for,
    wait_pod_ready,
)

SERVER_PORT = 8080
ALLOWED_LABEL = "baas-test/allowed"


def _create_namespace(core: client.CoreV1Api, labels: dict[str, str] | None = None) -> str:
    name = f"smoke-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": name, "labels": labels or {}}})
    return name


@pytest.fixture(scope="module")
def setup(kube_node_cluster: NodeCluster) -> Iterator[dict[str, Any]]:
    """A server namespace (busybox httpd pod + ClusterIP Service) with a client pod, and a
    second namespace labelled as allowed with its own client pod."""
    api = kube_node_cluster.api_client()
    core = client.CoreV1Api(api)
    server_ns = _create_namespace(core)
    allowed_ns = _create_namespace(core, {ALLOWED_LABEL: "true"})
    try:
        core.create_namespaced_pod(
            server_ns,
            busybox_pod(
                "server",
                [
                    "sh",
                    "-c",
                    f"mkdir -p /www && echo hello-from-server > /www/index.html && "
                    f"echo server-started && exec httpd -f -v -p {SERVER_PORT} -h /www",
                ],
                labels={"app": "server"},
                port=SERVER_PORT,
            ),
        )
        core.create_namespaced_service(
            server_ns,
            {
                "metadata": {"name": "web"},
                "spec": {
                    "selector": {"app": "server"},
                    "ports": [{"name": "http", "port": 80, "targetPort": SERVER_PORT}],
                },
            },
        )
        sleeper = ["sh", "-c", "echo client-started && exec sleep 86400"]
        core.create_namespaced_pod(server_ns, busybox_pod("client", sleeper))
        core.create_namespaced_pod(allowed_ns, busybox_pod("client", sleeper))
        for ns, pod in ((server_ns, "server"), (server_ns, "client"), (allowed_ns, "client")):
            wait_pod_ready(api, ns, pod)
        kube_node_cluster.wait_service_programmed(server_ns, "web")
        service = core.read_namespaced_service("web", server_ns)
        yield {
            "api": api,
            "server_ns": server_ns,
            "allowed_ns": allowed_ns,
            "cluster_ip": service.spec.cluster_ip,
            "dns_name": f"web.{server_ns}.svc.{CLUSTER_DOMAIN}",
        }
    finally:
        for ns in (server_ns, allowed_ns):
            core.delete_namespace(ns, grace_period_seconds=0)
        api.close()


def test_pods_run_and_become_ready(setup: dict[str, Any]) -> None:
    pod = client.CoreV1Api(setup["api"]).read_namespaced_pod("server", setup["server_ns"])
    assert pod.status.phase == "Running"
    assert pod.status.pod_ip
    assert pod.spec.node_name


def test_service_reachable_by_cluster_ip(
    kube_node_cluster: NodeCluster, setup: dict[str, Any]
) -> None:
    body = kube_node_cluster.http_get(setup["server_ns"], "client", setup["cluster_ip"])
    assert body.strip() == "hello-from-server"


def test_service_reachable_by_dns_name(
    kube_node_cluster: NodeCluster, setup: dict[str, Any]
) -> None:
    body = kube_node_cluster.http_get(setup["allowed_ns"], "client", setup["dns_name"])
    assert body.strip() == "hello-from-server"


def test_pod_logs_readable(setup: dict[str, Any]) -> None:
    core = client.CoreV1Api(setup["api"])
    assert "server-started" in core.read_namespaced_pod_log("server", setup["server_ns"])
    assert "client-started" in core.read_namespaced_pod_log("client", setup["allowed_ns"])


def test_network_policy_blocks_all_but_allowed_namespace(
    kube_node_cluster: NodeCluster, setup: dict[str, Any]
) -> None:
    """default-deny ingress + allow from namespaces labelled allowed: the same-namespace client
    is cut off, the allowed namespace's client still connects (by DNS name)."""
    net = client.NetworkingV1Api(setup["api"])
    server_ns, allowed_ns = setup["server_ns"], setup["allowed_ns"]
    dns_name = setup["dns_name"]
    assert kube_node_cluster.can_connect(server_ns, "client", dns_name)
    net.create_namespaced_network_policy(
        server_ns,
        {
            "metadata": {"name": "default-deny-ingress"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
    )
    net.create_namespaced_network_policy(
        server_ns,
        {
            "metadata": {"name": "allow-from-allowed-namespaces"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "server"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [{"namespaceSelector": {"matchLabels": {ALLOWED_LABEL: "true"}}}]}
                ],
            },
        },
    )
    wait_for(
        lambda: not kube_node_cluster.can_connect(server_ns, "client", dns_name),
        what="NetworkPolicy enforced (same-namespace client blocked)",
    )
    assert kube_node_cluster.http_get(allowed_ns, "client", dns_name).strip() == "hello-from-server"
    assert not kube_node_cluster.can_connect(server_ns, "client", setup["cluster_ip"])
    assert not kube_node_cluster.can_open(server_ns, "client", setup["cluster_ip"], 80)
    assert kube_node_cluster.can_open(allowed_ns, "client", setup["cluster_ip"], 80)


def test_persistent_volume_claims_are_provisioned(
    kube_node_cluster: NodeCluster, api: client.ApiClient, namespace: str
) -> None:
    """A claim without a class gets the default (hostPath) class and a bound volume that the
    pod can write."""
    core = client.CoreV1Api(api)
    core.create_namespaced_persistent_volume_claim(
        namespace,
        {
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "16Mi"}},
            },
        },
    )
    pod = busybox_pod("writer", ["sh", "-c", "echo persisted > /data/f && exec sleep 86400"])
    pod["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    pod["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    core.create_namespaced_pod(namespace, pod)
    wait_pod_ready(api, namespace, "writer")
    claim = core.read_namespaced_persistent_volume_claim("data", namespace)
    assert claim.status.phase == "Bound"
    assert kube_node_cluster.exec(namespace, "writer", ["cat", "/data/f"]).stdout == "persisted\n"
