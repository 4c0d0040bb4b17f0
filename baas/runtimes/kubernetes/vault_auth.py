"""Wiring Vault's Kubernetes auth to a cluster: a TokenReview service account and its token.

Vault verifies a pod's service-account token by calling the cluster's TokenReview API with a
*reviewer* token. :func:`ensure_reviewer` applies a ServiceAccount in the toolbox namespace bound
to ``system:auth-delegator`` and returns a short-lived token for it (TokenRequest API); the token
goes straight to Vault and is never written anywhere else.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from baas.runtimes.kubernetes.applying import ObjectChange, ensure_objects

REVIEWER = "baas-vault-reviewer"


def reviewer_manifests(*, network: str, namespace: str) -> list[dict[str, Any]]:
    """The ServiceAccount and the ClusterRoleBinding that lets it call TokenReview."""
    labels = {"app.kubernetes.io/managed-by": "baas", "baas.io/network": network}
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": REVIEWER, "namespace": namespace, "labels": labels},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{network}-{REVIEWER}", "labels": labels},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:auth-delegator",
            },
            "subjects": [{"kind": "ServiceAccount", "name": REVIEWER, "namespace": namespace}],
        },
    ]


def ensure_reviewer(
    api_client: Any, *, network: str, namespace: str, ttl_seconds: int = 3600
) -> tuple[list[ObjectChange], SecretStr]:
    """Apply the reviewer objects; return the changes and a fresh token (``SecretStr``)."""
    from kubernetes import client

    changes = ensure_objects(api_client, reviewer_manifests(network=network, namespace=namespace))
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=ttl_seconds)
    )
    token = client.CoreV1Api(api_client).create_namespaced_service_account_token(
        REVIEWER, namespace, request
    )
    return changes, SecretStr(token.status.token)


def cluster_endpoint(api_client: Any) -> tuple[str, str]:
    """``(host, ca_pem)`` of the API server the client talks to (CA empty when not pinned)."""
    conf = api_client.configuration
    ca = ""
    if conf.ssl_ca_cert:
        with open(conf.ssl_ca_cert, encoding="ascii") as handle:
            ca = handle.read()
    return str(conf.host), ca
