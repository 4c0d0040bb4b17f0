"""Fixtures for the `kube` suite: a real etcd + kube-apiserver, and the cached helm binary."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.support.kubeapi import KubeCluster, helm_binary, kube_binaries, kube_cluster
from tests.support.openbao import OpenBao, openbao_server

__all__ = ["api", "bao", "helm_binary", "home", "kube_binaries", "kube_cluster"]


@pytest.fixture
def api(kube_cluster: KubeCluster) -> Iterator[client.ApiClient]:
    """An admin API client for the session's test API server, closed after the test."""
    api_client = kube_cluster.api_client()
    try:
        yield api_client
    finally:
        api_client.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private ``BAAS_HOME`` for the test module."""
    path = tmp_path_factory.mktemp("baas-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BAAS_HOME", str(path))
        yield path


@pytest.fixture(scope="module")
def bao() -> Iterator[OpenBao]:
    """A real OpenBao dev server for the test module."""
    with openbao_server() as server:
        yield server
