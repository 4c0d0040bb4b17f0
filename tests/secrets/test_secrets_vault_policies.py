"""Per-organisation Vault access as pure data: names, policy text, role parameters."""

from __future__ import annotations

import pytest

from baas.errors import UsageError
from baas.secrets.vault_policies import (
    AppRoleOptions,
    approle_role_params,
    kubernetes_role_params,
    org_access_name,
    org_policy_hcl,
    params_differ,
)


def test_names() -> None:
    assert org_access_name("net1", "org1") == "baas-net1-org1"
    for bad in ("Net1", "a/b", "", 'x"y', "-a"):
        with pytest.raises(UsageError):
            org_access_name(bad, "org1")


def test_policy_grants_read_on_own_data_and_metadata_only() -> None:
    hcl = org_policy_hcl("baas", "net1", "org1")
    assert 'path "baas/data/net1/org1/*" {\n  capabilities = ["read"]\n}' in hcl
    assert 'path "baas/metadata/net1/org1/*" {\n  capabilities = ["read", "list"]\n}' in hcl
    assert hcl.count("path ") == 2
    for word in ("create", "update", "delete", "sudo", "sys/", "org2"):
        assert word not in hcl
    assert org_policy_hcl("baas", "net1", "org1") == hcl  # deterministic (idempotent compare)


def test_policy_prefix_does_not_cover_similar_org_names() -> None:
    # the trailing slash keeps org1 from reading org10
    assert "baas/data/net1/org1/*" in org_policy_hcl("baas", "net1", "org1")
    assert "baas/data/net1/org1*" not in org_policy_hcl("baas", "net1", "org1")


def test_role_params() -> None:
    approle = approle_role_params("p", AppRoleOptions(token_ttl=60))
    assert approle["token_policies"] == ["p"] and approle["token_ttl"] == 60
    assert approle["bind_secret_id"] is True
    kube = kubernetes_role_params("p", namespace="net1-org1", service_account="fabric")
    assert kube["bound_service_account_namespaces"] == ["net1-org1"]
    assert kube["bound_service_account_names"] == ["fabric"]
    assert kube["token_policies"] == ["p"]


def test_params_differ() -> None:
    want = {"token_policies": ["a", "b"], "token_ttl": 60}
    assert params_differ(None, want)
    assert not params_differ({"token_policies": ["b", "a"], "token_ttl": 60, "x": 1}, want)
    assert params_differ({"token_policies": ["a"], "token_ttl": 60}, want)
    assert params_differ({"token_policies": ["a", "b"], "token_ttl": 61}, want)
    assert params_differ({"token_ttl": 60}, want)
