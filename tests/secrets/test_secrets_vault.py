"""The vault store against a REAL OpenBao dev server (started once per session).

Each test uses its own network name, so tests share the server without interfering.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import hvac
import hvac.exceptions
import pytest
from pydantic import SecretStr

from baas.errors import OperationError, UsageError
from baas.secrets import Change, open_store
from baas.secrets.vault import VaultStore
from baas.secrets.vault_policies import org_policy_hcl
from tests.support.openbao import OpenBao
from tests.support.tinyca import TinyCA, org_bundles

pytestmark = pytest.mark.vault


def _admin(openbao: OpenBao) -> VaultStore:
    store = open_store("vault", addr=openbao.addr, token=openbao.root_token)
    assert isinstance(store, VaultStore)
    return store


def _root_client(openbao: OpenBao) -> Any:
    return hvac.Client(url=openbao.addr, token=openbao.root_token)


def _version(openbao: OpenBao, network: str, org: str, name: str) -> int:
    meta = _root_client(openbao).secrets.kv.v2.read_secret_metadata(
        f"{network}/{org}/{name}", mount_point="baas"
    )
    return int(meta["data"]["current_version"])


def test_whole_org_round_trip(openbao: OpenBao, network: str) -> None:
    store = _admin(openbao)
    bundles = org_bundles("org1", peers=("peer0", "peer1"), orderers=(), users=("alice", "bob"))
    assert set(store.ensure_identities(network, bundles).values()) == {Change.CREATED}
    assert store.list_identities(network, "org1") == sorted(b.name for b in bundles)
    for bundle in bundles:
        assert store.read_identity(network, "org1", bundle.name) == bundle


def test_second_ensure_is_unchanged_and_does_not_bump_the_version(
    openbao: OpenBao, network: str
) -> None:
    store = _admin(openbao)
    bundles = org_bundles("org1")
    store.ensure_identities(network, bundles)
    versions = {b.name: _version(openbao, network, "org1", b.name) for b in bundles}
    assert set(versions.values()) == {1}
    assert set(store.ensure_identities(network, bundles).values()) == {Change.UNCHANGED}
    assert {b.name: _version(openbao, network, "org1", b.name) for b in bundles} == versions

    renewed = dataclasses.replace(bundles[0], tls_key=org_bundles("org1")[0].tls_key)
    assert store.ensure_identity(network, renewed) is Change.UPDATED
    assert _version(openbao, network, "org1", renewed.name) == 2
    assert store.read_identity(network, "org1", renewed.name) == renewed


def test_absent_and_deleted(openbao: OpenBao, network: str) -> None:
    store = _admin(openbao)
    assert store.read_identity(network, "org1", "peer0.org1.example.com") is None
    assert store.list_identities(network, "org1") == []
    org1, org2 = org_bundles("org1"), org_bundles("org2")
    store.ensure_identities(network, org1 + org2)
    assert store.delete_org(network, "org1") == len(org1)
    assert store.list_identities(network, "org1") == []
    assert store.read_identity(network, "org1", org1[0].name) is None
    assert store.list_identities(network, "org2") == sorted(b.name for b in org2)
    # after deletion the identity can be stored again (check-and-set from version 0)
    assert store.ensure_identity(network, org1[0]) is Change.CREATED


def test_soft_deleted_latest_version_counts_as_absent(openbao: OpenBao, network: str) -> None:
    store = _admin(openbao)
    peer = org_bundles("org1", peers=("peer0",), users=())[0]
    store.ensure_identity(network, peer)
    _root_client(openbao).secrets.kv.v2.delete_latest_version_of_secret(
        f"{network}/org1/{peer.name}", mount_point="baas"
    )
    assert store.read_identity(network, "org1", peer.name) is None
    assert store.ensure_identity(network, peer) is Change.CREATED
    assert store.read_identity(network, "org1", peer.name) == peer


def test_org_access_is_ensured_idempotently(openbao: OpenBao, network: str) -> None:
    store = _admin(openbao)
    first = store.ensure_org_access(
        network, "org1", kubernetes=True, ensure_kubernetes_mount=True, service_account="fabric"
    )
    assert first.policy == f"baas-{network}-org1"
    assert first.changes["policy"] is Change.CREATED
    assert first.changes["approle-role"] is Change.CREATED
    assert first.changes["kubernetes-role"] is Change.CREATED
    assert first.role_id
    again = store.ensure_org_access(
        network, "org1", kubernetes=True, ensure_kubernetes_mount=True, service_account="fabric"
    )
    assert set(again.changes.values()) == {Change.UNCHANGED}
    assert again.role_id == first.role_id

    root = _root_client(openbao)
    policy = root.sys.read_acl_policy(first.policy)["data"]["policy"]
    assert policy == org_policy_hcl("baas", network, "org1")
    role = root.adapter.get(f"/v1/auth/kubernetes/role/{first.policy}")["data"]
    assert role["bound_service_account_namespaces"] == [f"{network}-org1"]
    assert role["bound_service_account_names"] == ["fabric"]
    assert role["token_policies"] == [first.policy]

    moved = store.ensure_org_access(network, "org1", kubernetes=True, service_account="peer")
    assert moved.changes["kubernetes-role"] is Change.UPDATED
    store.remove_org_access(network, "org1")
    store.remove_org_access(network, "org1")  # removing twice is fine
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.sys.read_acl_policy(first.policy)


def test_isolation_proof_with_org1_approle(openbao: OpenBao, network: str) -> None:
    admin = _admin(openbao)
    org1, org2 = org_bundles("org1"), org_bundles("org2")
    admin.ensure_identities(network, org1 + org2)
    access = admin.ensure_org_access(network, "org1")
    admin.ensure_org_access(network, "org2")
    secret_id = admin.mint_secret_id(network, "org1")
    assert isinstance(secret_id, SecretStr)

    # raw hvac: log in as org1's AppRole
    client = hvac.Client(url=openbao.addr)
    client.auth.approle.login(access.role_id, secret_id.get_secret_value())
    kv = client.secrets.kv.v2
    own = kv.read_secret_version(
        f"{network}/org1/{org1[0].name}", mount_point="baas", raise_on_deleted_version=True
    )
    assert own["data"]["data"]["name"] == org1[0].name
    assert kv.list_secrets(f"{network}/org1", mount_point="baas")["data"]["keys"]
    forbidden_calls: list[Callable[[], Any]] = [
        lambda: kv.read_secret_version(
            f"{network}/org2/{org2[0].name}", mount_point="baas", raise_on_deleted_version=True
        ),
        lambda: kv.read_secret_metadata(f"{network}/org2/{org2[0].name}", mount_point="baas"),
        lambda: kv.list_secrets(f"{network}/org2", mount_point="baas"),
        lambda: kv.create_or_update_secret(
            f"{network}/org1/{org1[0].name}", {"x": "y"}, mount_point="baas"
        ),
        lambda: client.sys.list_acl_policies(),
        lambda: client.sys.read_acl_policy(access.policy),
        lambda: client.sys.create_or_update_acl_policy(access.policy, 'path "*" {}'),
        lambda: client.sys.list_mounted_secrets_engines(),
    ]
    for forbidden in forbidden_calls:
        with pytest.raises(hvac.exceptions.Forbidden):
            forbidden()

    # the same through the store, opened with the AppRole credentials
    store = open_store(
        "vault", addr=openbao.addr, role_id=access.role_id, secret_id=secret_id.get_secret_value()
    )
    assert store.list_identities(network, "org1") == sorted(b.name for b in org1)
    assert store.read_identity(network, "org1", org1[0].name) == org1[0]
    with pytest.raises(OperationError) as info:
        store.read_identity(network, "org2", org2[0].name)
    assert "permission denied" in info.value.message
    assert "lacks a policy granting 'read'" in info.value.hint
    assert f"baas/data/{network}/org2/" in info.value.hint
    with pytest.raises(OperationError, match="permission denied"):
        store.ensure_identity(network, org1[0])  # needs sys/mounts: the org token has none
    unmanaged = open_store(
        "vault",
        addr=openbao.addr,
        role_id=access.role_id,
        secret_id=admin.mint_secret_id(network, "org1").get_secret_value(),
        manage_mount=False,
    )
    assert unmanaged.ensure_identity(network, org1[0]) is Change.UNCHANGED  # read-only compare
    changed = dataclasses.replace(org1[0], tls_cert=org2[0].tls_cert)
    with pytest.raises(OperationError) as write_denied:
        unmanaged.ensure_identity(network, changed)
    assert "lacks a policy granting 'update'" in write_denied.value.hint


def test_kubernetes_auth_config_is_an_ensure(openbao: OpenBao) -> None:
    store = _admin(openbao)
    store.ensure_auth_mount("kubernetes", "k8s-test")
    ca = TinyCA.create("kube-ca").cert_pem
    jwt = SecretStr("eyJhbGciOiJSUzI1NiJ9.reviewer.signature")
    kwargs: dict[str, Any] = {"host": "https://10.0.0.1:6443", "ca_cert": ca, "mount": "k8s-test"}
    assert store.ensure_kubernetes_auth_config(reviewer_jwt=jwt, **kwargs) is Change.CREATED
    assert store.ensure_kubernetes_auth_config(reviewer_jwt=jwt, **kwargs) is Change.UNCHANGED
    assert (
        store.ensure_kubernetes_auth_config(reviewer_jwt=jwt, rotate_reviewer_jwt=True, **kwargs)
        is Change.UPDATED
    )
    kwargs["host"] = "https://10.0.0.2:6443"
    assert store.ensure_kubernetes_auth_config(reviewer_jwt=jwt, **kwargs) is Change.UPDATED
    config = _root_client(openbao).adapter.get("/v1/auth/k8s-test/config")["data"]
    assert config["kubernetes_host"] == "https://10.0.0.2:6443"
    assert jwt.get_secret_value() not in str(config)


def test_mount_of_the_wrong_kind_is_refused(openbao: OpenBao, network: str) -> None:
    root = _root_client(openbao)
    root.sys.enable_secrets_engine("kv", path=f"kv1-{network}", options={"version": "1"})
    store = open_store("vault", addr=openbao.addr, token=openbao.root_token, mount=f"kv1-{network}")
    with pytest.raises(OperationError, match="not KV version 2"):
        store.ensure_identity(network, org_bundles("org1")[0])


def test_bad_token_gets_a_hint_and_no_token_in_the_error(openbao: OpenBao, network: str) -> None:
    token = "s.ThisIsNotARealTokenButLooksLikeOne123"
    store = open_store("vault", addr=openbao.addr, token=token)
    with pytest.raises(OperationError) as info:
        store.ensure_identity(network, org_bundles("org1")[0])
    text = f"{info.value}\n{info.value!r}\n{info.value.hint}"
    assert token not in text
    assert "VAULT_TOKEN" in info.value.hint


def test_connection_refused_says_where(network: str) -> None:
    store = open_store("vault", addr="http://127.0.0.1:9", token="whatever", timeout=5)
    with pytest.raises(OperationError) as info:
        store.read_identity(network, "org1", "peer0.org1.example.com")
    assert "is Vault running at http://127.0.0.1:9? set VAULT_ADDR" in info.value.hint
    assert "whatever" not in str(info.value)


def test_settings_come_from_the_environment(
    openbao: OpenBao, network: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("VAULT_ADDR", "VAULT_TOKEN", "BAO_ADDR", "BAO_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UsageError, match="no Vault address"):
        open_store("vault")
    monkeypatch.setenv("BAO_ADDR", openbao.addr)
    with pytest.raises(UsageError, match="no Vault token"):
        open_store("vault")
    monkeypatch.setenv("BAO_TOKEN", openbao.root_token)
    store = open_store("vault")
    assert "token from BAO_TOKEN" in store.describe()
    assert store.list_identities(network, "org1") == []
    with pytest.raises(UsageError, match="tokn: Extra inputs") as info:
        open_store("vault", tokn="typo")
    assert "accepted settings: addr, token" in info.value.hint
    with pytest.raises(UsageError, match="timeout"):
        open_store("vault", timeout="soon")
