"""Fixtures for the `cluster` suite: a real single-node Kubernetes cluster (pods run).

Every test under tests/cluster/ that uses the cluster gets the ``cluster`` marker. The cluster is
session-scoped: started by the first test that needs it, shared by all later ones, torn down at
session end (see tests/support/cluster.py).
"""

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.support.cluster import NodeCluster, cluster_binaries, kube_node_cluster

__all__ = ["api", "cluster_binaries", "kube_node_cluster", "namespace"]

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``cluster`` every test of this directory that uses the cluster (directly or through
    another fixture); the image-format tests here need no cluster."""
    for item in items:
        uses = getattr(item, "fixturenames", ())
        if _HERE in Path(str(item.fspath)).parents and "kube_node_cluster" in uses:
            item.add_marker(pytest.mark.cluster)


@pytest.fixture
def api(kube_node_cluster: NodeCluster) -> Iterator[client.ApiClient]:
    """An admin API client for the session's cluster, closed after the test."""
    api_client = kube_node_cluster.api_client()
    try:
        yield api_client
    finally:
        api_client.close()


@pytest.fixture
def namespace(api: client.ApiClient) -> Iterator[str]:
    """A fresh namespace for the test, deleted afterwards (its pods stop)."""
    name = f"t-{secrets.token_hex(4)}"
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": name}})
    try:
        yield name
    finally:
        core.delete_namespace(name, grace_period_seconds=0)
