"""The test Kubernetes infrastructure itself: a real kube-apiserver (+ etcd) and a real helm.

These prove what the deployer relies on: server-side apply with the "baas" field manager for
every object kind it writes, the TokenRequest + TokenReview round trip that Vault's Kubernetes
auth method performs, and helm releases stored in the API server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pyhelm3
import pytest
from kubernetes import client
from kubernetes.dynamic import DynamicClient

from tests.support.kubeapi import KubeCluster

pytestmark = pytest.mark.kube

FIELD_MANAGER = "baas"


@pytest.fixture
def dyn(api: client.ApiClient, tmp_path: Path) -> DynamicClient:
    return DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))


def _apply(dyn: DynamicClient, manifest: dict[str, Any]) -> Any:
    resource = dyn.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
    return resource.server_side_apply(
        body=manifest, field_manager=FIELD_MANAGER, force_conflicts=True
    )


def _get(dyn: DynamicClient, manifest: dict[str, Any]) -> Any:
    resource = dyn.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
    meta = manifest["metadata"]
    return resource.get(name=meta["name"], namespace=meta.get("namespace"))


def _applied_by_baas(obj: Any) -> bool:
    """True when the "baas" manager owns fields through Apply (an apply that sets no field
    beyond the name leaves no managedFields entry at all)."""
    return any(
        entry.manager == FIELD_MANAGER and entry.operation == "Apply"
        for entry in obj.metadata.managedFields or []
    )


def _manifests(ns: str) -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": "peer0", "app.kubernetes.io/managed-by": "baas"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"app.kubernetes.io/managed-by": "baas"}},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "same-namespace-only", "namespace": ns},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "peer0-tls", "namespace": ns},
            "type": "Opaque",
            "data": {"tls.key": base64.b64encode(b"not-a-real-key").decode()},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "peer0", "namespace": ns, "labels": labels},
            "spec": {
                "serviceName": "peer0",
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [{"name": "peer", "image": "hyperledger/fabric-peer:2.5"}]
                    },
                },
            },
        },
    ]


def test_server_side_apply_stores_and_reads_back(dyn: DynamicClient) -> None:
    ns = "baas-infra-apply"
    manifests = _manifests(ns)
    for manifest in manifests:
        _apply(dyn, manifest)

    for manifest in manifests:
        obj = _get(dyn, manifest)
        assert obj.metadata.name == manifest["metadata"]["name"]
        assert _applied_by_baas(obj), f"{manifest['kind']} not applied by {FIELD_MANAGER}"

    secret = _get(dyn, manifests[2])
    assert base64.b64decode(secret.data["tls.key"]) == b"not-a-real-key"
    policy = _get(dyn, manifests[1])
    assert policy.spec.policyTypes == ["Ingress"]
    sts = _get(dyn, manifests[3])
    assert sts.spec.template.spec.containers[0].image == "hyperledger/fabric-peer:2.5"

    # Re-applying the same intent is a no-op for the stored object.
    again = _apply(dyn, manifests[3])
    assert again.metadata.resourceVersion == sts.metadata.resourceVersion


def test_invalid_object_is_rejected_by_real_validation(dyn: DynamicClient) -> None:
    from kubernetes.dynamic.exceptions import UnprocessibleEntityError

    _apply(dyn, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "baas-invalid"}})
    bad = _manifests("baas-invalid")[3]
    bad["spec"]["replicas"] = -1
    with pytest.raises(UnprocessibleEntityError):
        _apply(dyn, bad)


def test_token_request_and_token_review(kube_cluster: KubeCluster, api: client.ApiClient) -> None:
    """What Vault's Kubernetes auth does: a ServiceAccount JWT, reviewed by a reviewer identity
    that holds system:auth-delegator (here the same ServiceAccount, like `token_reviewer_jwt`)."""
    ns, sa = "baas-infra-auth", "vault-auth"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    core.create_namespaced_service_account(
        ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=sa))
    )
    client.RbacAuthorizationV1Api(api).create_cluster_role_binding(
        client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=f"{ns}-{sa}-auth-delegator"),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io",
                kind="ClusterRole",
                name="system:auth-delegator",
            ),
            subjects=[client.RbacV1Subject(kind="ServiceAccount", name=sa, namespace=ns)],
        )
    )
    request = core.create_namespaced_service_account_token(
        sa,
        ns,
        client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(
                audiences=[kube_cluster.service_account_issuer], expiration_seconds=600
            )
        ),
    )
    assert request.status is not None
    token = request.status.token
    assert token is not None
    assert token.count(".") == 2  # a JWT

    # The reviewer authenticates with the ServiceAccount token itself (bearer, no client cert).
    reviewer_cfg = client.Configuration()
    reviewer_cfg.host = kube_cluster.server_url
    reviewer_cfg.ssl_ca_cert = str(kube_cluster.ca_pem)
    reviewer_cfg.api_key = {"authorization": f"Bearer {token}"}
    with client.ApiClient(reviewer_cfg) as reviewer:
        auth = client.AuthenticationV1Api(reviewer)
        review = auth.create_token_review(
            client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token))
        )
        status = review.status
        assert status is not None
        assert status.authenticated is True
        assert status.user is not None
        assert status.user.username == f"system:serviceaccount:{ns}:{sa}"
        assert kube_cluster.service_account_issuer in (status.audiences or [])

        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        rejected = auth.create_token_review(
            client.V1TokenReview(spec=client.V1TokenReviewSpec(token=forged))
        )
        assert rejected.status is not None
        assert not rejected.status.authenticated


def _write_chart(root: Path) -> Path:
    chart = root / "baas-probe"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: baas-probe\nversion: 0.1.0\nappVersion: '1.0'\n"
    )
    (chart / "values.yaml").write_text("message: hello\n")
    (chart / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-probe\n"
        "data:\n  message: {{ .Values.message | quote }}\n"
    )
    return chart


def _helm(helm: Path, cluster: KubeCluster, home: Path, *args: str) -> str:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
        "KUBECONFIG": str(cluster.kubeconfig_path),
    }
    proc = subprocess.run([str(helm), *args], env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"helm {' '.join(args)} failed:\n{proc.stderr}"
    return proc.stdout


def test_helm_binary_is_real_and_parsed_by_pyhelm3(helm_binary: Path) -> None:
    out = subprocess.run(
        [str(helm_binary), "version", "--template", "{{.Version}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("v3.")
    version = pyhelm3.Client(executable=str(helm_binary)).version
    assert version.major == 3


def test_helm_release_is_stored_in_api_server(
    helm_binary: Path, kube_cluster: KubeCluster, api: client.ApiClient, tmp_path: Path
) -> None:
    ns, release = "baas-infra-helm", "probe"
    chart = _write_chart(tmp_path)
    home = tmp_path / "helm-home"
    _helm(
        helm_binary,
        kube_cluster,
        home,
        "upgrade",
        "--install",
        release,
        str(chart),
        "--namespace",
        ns,
        "--create-namespace",
        "--set",
        "message=from-test",
    )
    releases = json.loads(
        _helm(helm_binary, kube_cluster, home, "list", "--namespace", ns, "--output", "json")
    )
    assert [(r["name"], r["status"]) for r in releases] == [(release, "deployed")]

    cm = client.CoreV1Api(api).read_namespaced_config_map(f"{release}-probe", ns)
    assert cm.data == {"message": "from-test"}

    # pyhelm3 (the project's helm driver) sees the same release.
    helm = pyhelm3.Client(executable=str(helm_binary), kubeconfig=kube_cluster.kubeconfig_path)
    listed = asyncio.run(helm.list_releases(namespace=ns))
    assert [r.name for r in listed] == [release]
