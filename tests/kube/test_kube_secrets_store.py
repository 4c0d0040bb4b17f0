"""The Kubernetes-Secrets store against the REAL kube-apiserver (etcd-backed, no mocks).

``KubernetesStore(CoreV1SecretApi(CoreV1Api(api_client)))``: ensure → created / unchanged (no
write: resourceVersions stay) / updated (only the Secret that differs is rewritten); read-back
equals the bundle; listing and deleting stay within the store's own labels; a Secret of the same
name that belongs to another identity, or to no baas identity, is refused and left untouched; a
Secret whose (immutable) type differs is replaced; a missing namespace gives the 404 hint.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from baas.errors import OperationError, UsageError
from baas.secrets import Change
from baas.secrets.kubernetes import (
    ANNOTATION_NAME,
    MANAGED_BY,
    CoreV1SecretApi,
    KubernetesStore,
    build_secrets,
    secret_names,
)
from pki.bundle import IdentityBundle
from tests.support.kubeapi import KubeCluster
from tests.support.tinyca import TinyCA, org_bundles

pytestmark = pytest.mark.kube


@pytest.fixture
def core(kube_cluster: KubeCluster) -> Iterator[client.CoreV1Api]:
    api = kube_cluster.api_client()
    try:
        yield client.CoreV1Api(api)
    finally:
        api.close()


@pytest.fixture
def network(core: client.CoreV1Api) -> str:
    """A fresh network name with namespaces ``<net>-org1`` and ``<net>-org2`` (a deleted
    namespace never goes away on this server: no namespace controller)."""
    name = f"st{uuid.uuid4().hex[:8]}"
    for org in ("org1", "org2"):
        core.create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=f"{name}-{org}"))
        )
    return name


@pytest.fixture
def store(core: client.CoreV1Api) -> KubernetesStore:
    return KubernetesStore(CoreV1SecretApi(core))


def _versions(core: client.CoreV1Api, namespace: str) -> dict[str, str]:
    """Secret name → resourceVersion of every Secret in ``namespace``."""
    return {
        s.metadata.name: str(s.metadata.resource_version)
        for s in core.list_namespaced_secret(namespace).items
    }


def _reissued_tls(bundle: IdentityBundle) -> IdentityBundle:
    """``bundle`` with a new TLS certificate and key; CA certificates kept (they are in the MSP
    Secret too). The store moves bundles and does not verify chains."""
    cert, key = TinyCA.create("tlsca.rotated.example.com").issue(bundle.name)
    return dataclasses.replace(bundle, tls_cert=cert, tls_key=key)


def test_ensure_read_list_and_delete_round_trip(
    core: client.CoreV1Api, network: str, store: KubernetesStore
) -> None:
    namespace = f"{network}-org1"
    bundles = org_bundles("org1")
    assert store.ensure_identities(network, bundles) == {b.name: Change.CREATED for b in bundles}
    for bundle in bundles:
        assert store.read_identity(network, "org1", bundle.name) == bundle
    tls = core.read_namespaced_secret(secret_names(bundles[0].name).tls, namespace)
    assert tls.type == "kubernetes.io/tls"
    assert tls.metadata.managed_fields[0].manager == "baas"
    assert store.list_identities(network, "org1") == sorted(b.name for b in bundles)
    assert store.list_identities(network, "org2") == []
    assert store.read_identity(network, "org1", "peer9.org1.example.com") is None

    # second ensure: nothing written
    before = _versions(core, namespace)
    assert store.ensure_identities(network, bundles) == {b.name: Change.UNCHANGED for b in bundles}
    assert _versions(core, namespace) == before

    # a new TLS certificate: only that identity's TLS Secret is rewritten
    rotated = _reissued_tls(bundles[0])
    assert store.ensure_identity(network, rotated) is Change.UPDATED
    names = secret_names(rotated.name)
    after = _versions(core, namespace)
    assert after[names.tls] != before[names.tls]
    assert {k: v for k, v in after.items() if k != names.tls} == {
        k: v for k, v in before.items() if k != names.tls
    }
    assert store.read_identity(network, "org1", rotated.name) == rotated
    assert store.ensure_identity(network, rotated) is Change.UNCHANGED

    assert store.delete_org(network, "org1") == len(bundles)
    assert core.list_namespaced_secret(namespace).items == []
    assert store.list_identities(network, "org1") == []
    assert store.read_identity(network, "org1", rotated.name) is None
    assert store.delete_org(network, "org1") == 0


def test_changed_signing_certificate_updates_the_msp_secret(
    core: client.CoreV1Api, network: str, store: KubernetesStore
) -> None:
    peer = org_bundles("org1", peers=("peer0",), users=())[0]
    assert store.ensure_identity(network, peer) is Change.CREATED
    before = _versions(core, f"{network}-org1")
    ca = TinyCA.create("ca.org1.example.com")
    cert, key = ca.issue(peer.name, ou="peer")
    second = dataclasses.replace(peer, sign_cert=cert, sign_key=key, ca_cert=ca.cert_pem)
    assert store.ensure_identity(network, second) is Change.UPDATED
    after = _versions(core, f"{network}-org1")
    names = secret_names(peer.name)
    assert after[names.msp] != before[names.msp]
    assert after[names.tls] == before[names.tls]
    assert store.read_identity(network, "org1", peer.name) == second


def test_secret_of_another_identity_is_refused_and_untouched(
    core: client.CoreV1Api, network: str, store: KubernetesStore
) -> None:
    namespace = f"{network}-org2"
    peer = org_bundles("org2", peers=("peer0",), users=())[0]
    names = secret_names(peer.name)
    # a Secret baas manages, but for another identity that maps to the same name
    other = dataclasses.replace(peer, name="peer0.elsewhere.example.com")
    foreign_msp = build_secrets(network, other)[0]
    core.create_namespaced_secret(namespace, foreign_msp)
    # and one that baas does not manage at all
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name=names.tls), string_data={"tls.crt": "not ours"}
        ),
    )
    before = _versions(core, namespace)

    with pytest.raises(UsageError) as refused:
        store.ensure_identity(network, peer)
    message = str(refused.value)
    assert f"secret {namespace}/{names.msp} already exists" in message
    assert "belongs to peer0.elsewhere.example.com" in message
    assert "PRIVATE KEY" not in message
    with pytest.raises(UsageError, match=r"belongs to peer0\.elsewhere\.example\.com"):
        store.read_identity(network, "org2", peer.name)
    assert _versions(core, namespace) == before

    core.delete_namespaced_secret(names.msp, namespace)
    unmanaged = core.read_namespaced_secret(names.tls, namespace)
    with pytest.raises(UsageError, match="not managed by baas"):
        store.ensure_identity(network, peer)
    kept = core.read_namespaced_secret(names.tls, namespace)
    assert kept.metadata.resource_version == unmanaged.metadata.resource_version
    assert kept.data == unmanaged.data
    assert kept.metadata.labels is None or MANAGED_BY not in kept.metadata.labels
    # deleting the organisation removes only the store's own Secrets
    store.delete_org(network, "org2")
    assert [s.metadata.name for s in core.list_namespaced_secret(namespace).items] == [names.tls]


def test_secret_with_another_type_is_replaced(
    core: client.CoreV1Api, network: str, store: KubernetesStore
) -> None:
    """A Secret's type is immutable: the store deletes and recreates it."""
    namespace = f"{network}-org1"
    peer = org_bundles("org1", peers=("peer1",), users=())[0]
    tls = build_secrets(network, peer)[1]
    opaque = {**tls, "type": "Opaque"}
    core.create_namespaced_secret(namespace, opaque)
    assert store.ensure_identity(network, peer) is Change.UPDATED
    replaced = core.read_namespaced_secret(tls["metadata"]["name"], namespace)
    assert replaced.type == "kubernetes.io/tls"
    assert replaced.metadata.annotations[ANNOTATION_NAME] == peer.name
    assert store.read_identity(network, "org1", peer.name) == peer


def test_incomplete_identity_and_missing_namespace(
    core: client.CoreV1Api, network: str, store: KubernetesStore
) -> None:
    peer = org_bundles("org1", peers=("peer0",), users=())[0]
    store.ensure_identity(network, peer)
    core.delete_namespaced_secret(secret_names(peer.name).tls, f"{network}-org1")
    with pytest.raises(OperationError, match=r"incomplete .* secret peer0-tls is missing"):
        store.read_identity(network, "org1", peer.name)
    assert store.ensure_identity(network, peer) is Change.UPDATED  # recreated
    assert store.read_identity(network, "org1", peer.name) == peer

    stray = dataclasses.replace(peer, org="org9")
    with pytest.raises(OperationError) as missing:
        store.ensure_identity(network, stray)
    assert "(HTTP 404)" in missing.value.message
    assert f"namespace {network}-org9 does not exist" in missing.value.hint
