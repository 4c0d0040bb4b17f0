"""Fixtures for the `kube` suite: a real etcd + kube-apiserver, and the cached helm binary."""

from collections.abc import Iterator

import pytest
from kubernetes import client

from tests.support.kubeapi import KubeCluster, helm_binary, kube_binaries, kube_cluster

__all__ = ["api", "helm_binary", "kube_binaries", "kube_cluster"]


@pytest.fixture
def api(kube_cluster: KubeCluster) -> Iterator[client.ApiClient]:
    """An admin API client for the session's test API server, closed after the test."""
    api_client = kube_cluster.api_client()
    try:
        yield api_client
    finally:
        api_client.close()
