"""The kubernetes store: pure names/objects now; the store's ensure logic over its own seam.

The I/O adapter (:class:`CoreV1SecretApi`, server-side apply) is exercised against a real
kube-apiserver by the `kube` suite. Here the store runs over :class:`MemorySecretApi`, an
in-memory implementation of the store's *own* :class:`SecretApi` seam (not of Kubernetes).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import kubernetes_validate
import pytest

from baas.errors import OperationError, UsageError
from baas.secrets import Change
from baas.secrets.kubernetes import (
    KubernetesStore,
    build_secrets,
    bundle_from_secrets,
    dns_label,
    identity_base_name,
    kube_error,
    needs_apply,
    org_namespace,
    org_selector,
    secret_names,
)
from tests.support.tinyca import org_bundles

DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("identity", "msp", "tls"),
    [
        ("peer0.org1.example.com", "peer0-msp", "peer0-tls"),
        ("orderer2.ord.example.com", "orderer2-msp", "orderer2-tls"),
        ("Admin@org1.example.com", "admin-msp", "admin-tls"),
        ("alice@org1.example.com", "alice-msp", "alice-tls"),
    ],
)
def test_secret_names(identity: str, msp: str, tls: str) -> None:
    names = secret_names(identity)
    assert (names.msp, names.tls) == (msp, tls)


@pytest.mark.parametrize(
    "identity",
    [
        "Bob_Smith@org1.example.com",
        "bob.smith@org1.example.com",
        "Ünïcode@o.example.com",
        "x" * 80 + "@org1.example.com",
        "-@org1.example.com",
        "___.org1.example.com",
    ],
)
def test_lossy_names_stay_valid_and_distinct(identity: str) -> None:
    names = secret_names(identity)
    for name in (names.msp, names.tls):
        assert DNS_1123_LABEL.match(name) and len(name) <= 63, name
    assert secret_names(identity) == names  # deterministic


def test_lossy_names_do_not_collide() -> None:
    a = identity_base_name("bob_smith@org1.example.com")
    b = identity_base_name("bob.smith@org1.example.com")
    c = identity_base_name("bob-smith@org1.example.com")
    assert len({a, b, c}) == 3
    assert c == "bob-smith"


def test_dns_label_keeps_clean_text_and_hashes_the_rest() -> None:
    assert dns_label("peer0") == "peer0"
    assert dns_label("Peer0") == "peer0"  # case folds without a hash
    assert re.fullmatch(r"a-b-[0-9a-f]{8}", dns_label("a_b"))
    assert len(dns_label("y" * 200)) <= 63


def test_org_namespace() -> None:
    assert org_namespace("net1", "org1") == "net1-org1"
    with pytest.raises(UsageError):
        org_namespace("Net_1", "org1")
    with pytest.raises(UsageError):
        org_namespace("n" * 40, "o" * 30)


# --------------------------------------------------------------------------- objects


def test_build_secrets_types_names_labels_and_data() -> None:
    peer = org_bundles("org1", peers=("peer0",), users=())[0]
    msp, tls = build_secrets("net1", peer)

    assert tls["type"] == "kubernetes.io/tls"
    assert msp["type"] == "Opaque"
    assert (msp["metadata"]["name"], tls["metadata"]["name"]) == ("peer0-msp", "peer0-tls")
    for obj, material in ((msp, "msp"), (tls, "tls")):
        assert obj["apiVersion"] == "v1" and obj["kind"] == "Secret"
        assert obj["metadata"]["namespace"] == "net1-org1"
        assert obj["metadata"]["labels"] == {
            "app.kubernetes.io/managed-by": "baas",
            "baas.io/network": "net1",
            "baas.io/org": "org1",
            "baas.io/identity": "peer0",
            "baas.io/role": "peer",
            "baas.io/material": material,
        }
        assert obj["metadata"]["annotations"] == {
            "baas.io/identity-name": "peer0.org1.example.com",
            "baas.io/msp-id": "Org1MSP",
        }
        assert "stringData" not in obj

    def decoded(obj: Mapping[str, Any]) -> dict[str, bytes]:
        return {k: base64.b64decode(v, validate=True) for k, v in obj["data"].items()}

    assert decoded(tls) == {
        "tls.crt": peer.tls_cert,
        "tls.key": peer.tls_key.reveal(),
        "ca.crt": peer.tls_ca_cert,
    }
    msp_data = decoded(msp)
    assert {k: v for k, v in msp_data.items() if k != "config.yaml"} == {
        "cert.pem": peer.sign_cert,
        "key.pem": peer.sign_key.reveal(),
        "cacert.pem": peer.ca_cert,
        "tlscacert.pem": peer.tls_ca_cert,
    }
    assert b"NodeOUs" in msp_data["config.yaml"]


def test_built_secrets_pass_strict_schema_validation() -> None:
    for bundle in org_bundles("org1", peers=("peer0",), orderers=("orderer0",)):
        for obj in build_secrets("net1", bundle):
            kubernetes_validate.validate(obj, "1.34", strict=True)


def test_admin_and_user_roles_in_labels() -> None:
    bundles = {b.role: b for b in org_bundles("org1", peers=(), users=("alice",))}
    msp, _ = build_secrets("net1", bundles["admin"])
    assert msp["metadata"]["name"] == "admin-msp"
    assert msp["metadata"]["labels"]["baas.io/role"] == "admin"
    msp, _ = build_secrets("net1", bundles["client"])
    assert msp["metadata"]["labels"]["baas.io/identity"] == "alice"
    assert msp["metadata"]["labels"]["baas.io/role"] == "client"


def test_build_is_deterministic_and_round_trips() -> None:
    peer = org_bundles("org1", peers=("peer0",), users=())[0]
    first = build_secrets("net1", peer)
    assert build_secrets("net1", peer) == first
    assert bundle_from_secrets(*first) == peer


def test_needs_apply() -> None:
    peer = org_bundles("org1", peers=("peer0",), users=())[0]
    desired = build_secrets("net1", peer)[1]
    live = copy.deepcopy(desired)
    live["metadata"]["uid"] = "1234"
    live["metadata"]["labels"]["team"] = "blue"  # others' labels are ignored
    assert needs_apply(None, desired)
    assert not needs_apply(live, desired)
    drifted = copy.deepcopy(live)
    drifted["data"]["tls.key"] = base64.b64encode(b"other").decode()
    assert needs_apply(drifted, desired)
    relabelled = copy.deepcopy(live)
    relabelled["metadata"]["labels"]["baas.io/role"] = "client"
    assert needs_apply(relabelled, desired)
    retyped = copy.deepcopy(live)
    retyped["type"] = "Opaque"
    assert needs_apply(retyped, desired)


def test_org_selector() -> None:
    assert org_selector("net1", "org1") == (
        "app.kubernetes.io/managed-by=baas,baas.io/network=net1,baas.io/org=org1"
    )


@pytest.mark.parametrize(
    ("status", "hint"),
    [(403, "RBAC"), (404, "namespace net1-org1 does not exist"), (401, "expired")],
)
def test_kube_error_hints(status: int, hint: str) -> None:
    err = kube_error("apply", "net1-org1", "peer0-tls", status, "denied", host="API server x")
    assert "HTTP" in err.message and "denied" in err.message
    assert hint in err.hint


# --------------------------------------------------------------------------- store logic


class MemorySecretApi:
    """The store's SecretApi seam kept in a dict; records writes so tests can count them."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.writes: list[tuple[str, str, str]] = []

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self.objects.get((namespace, name))
        return copy.deepcopy(obj) if obj else None

    def apply_secret(self, manifest: Mapping[str, Any]) -> None:
        meta = manifest["metadata"]
        self.writes.append(("apply", meta["namespace"], meta["name"]))
        self.objects[(meta["namespace"], meta["name"])] = copy.deepcopy(dict(manifest))

    def delete_secret(self, namespace: str, name: str) -> None:
        self.writes.append(("delete", namespace, name))
        self.objects.pop((namespace, name), None)

    def list_secrets(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        wanted = dict(term.split("=", 1) for term in label_selector.split(","))
        return [
            copy.deepcopy(o)
            for (ns, _), o in sorted(self.objects.items())
            if ns == namespace
            and all(o["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
        ]

    def describe(self) -> str:
        return "memory"


def test_store_round_trip_and_idempotence() -> None:
    api = MemorySecretApi()
    store = KubernetesStore(api)
    bundles = org_bundles("org1", peers=("peer0", "peer1"), users=("alice",))
    assert set(store.ensure_identities("net1", bundles).values()) == {Change.CREATED}
    assert len(api.objects) == 2 * len(bundles)
    writes = len(api.writes)
    assert set(store.ensure_identities("net1", bundles).values()) == {Change.UNCHANGED}
    assert len(api.writes) == writes
    assert store.list_identities("net1", "org1") == sorted(b.name for b in bundles)
    for bundle in bundles:
        assert store.read_identity("net1", "org1", bundle.name) == bundle
    assert store.read_identity("net1", "org1", "peer9.org1.example.com") is None


def test_store_update_touches_only_the_changed_secret() -> None:
    api = MemorySecretApi()
    store = KubernetesStore(api)
    peer = org_bundles("org1", peers=("peer0",), users=())[0]
    store.ensure_identity("net1", peer)
    api.writes.clear()
    other = org_bundles("org1", peers=("peer0",), users=())[0]
    renewed = dataclasses.replace(peer, tls_cert=other.tls_cert, tls_key=other.tls_key)
    assert store.ensure_identity("net1", renewed) is Change.UPDATED
    assert api.writes == [("apply", "net1-org1", "peer0-tls")]


def test_store_recreates_a_secret_whose_type_is_wrong() -> None:
    api = MemorySecretApi()
    store = KubernetesStore(api)
    peer = org_bundles("org1", peers=("peer0",), users=())[0]
    store.ensure_identity("net1", peer)
    api.objects[("net1-org1", "peer0-tls")]["type"] = "Opaque"
    api.writes.clear()
    assert store.ensure_identity("net1", peer) is Change.UPDATED
    assert api.writes == [("delete", "net1-org1", "peer0-tls"), ("apply", "net1-org1", "peer0-tls")]


def test_store_refuses_a_secret_of_another_identity() -> None:
    api = MemorySecretApi()
    store = KubernetesStore(api)
    peer = org_bundles("org1", peers=("peer0",), users=())[0]
    store.ensure_identity("net1", peer)
    clash = org_bundles("org1", peers=(), users=("peer0",))[-1]  # peer0@org1... -> peer0-*
    assert clash.name == "peer0@org1.example.com"
    with pytest.raises(UsageError, match=re.escape("belongs to peer0.org1.example.com")):
        store.ensure_identity("net1", clash)
    with pytest.raises(UsageError):
        store.read_identity("net1", "org1", clash.name)


def test_store_incomplete_identity_is_an_operation_error() -> None:
    api = MemorySecretApi()
    store = KubernetesStore(api)
    peer = org_bundles("org1", peers=("peer0",), users=())[0]
    store.ensure_identity("net1", peer)
    del api.objects[("net1-org1", "peer0-msp")]
    with pytest.raises(OperationError, match="peer0-msp is missing"):
        store.read_identity("net1", "org1", peer.name)


def test_store_delete_org_counts_identities() -> None:
    api = MemorySecretApi()
    store = KubernetesStore(api)
    org1 = org_bundles("org1")
    org2 = org_bundles("org2")
    store.ensure_identities("net1", org1 + org2)
    assert store.delete_org("net1", "org1") == len(org1)
    assert store.list_identities("net1", "org1") == []
    assert store.list_identities("net1", "org2") == sorted(b.name for b in org2)
    assert store.delete_org("net1", "org1") == 0


def test_refusal_writes_nothing_even_when_only_the_tls_secret_is_foreign() -> None:
    api = MemorySecretApi()
    store = KubernetesStore(api)
    peer = org_bundles("org1", peers=("peer0",), users=())[0]
    store.ensure_identity("net1", peer)
    del api.objects[("net1-org1", "peer0-msp")]  # only the TLS Secret (peer0's) remains
    clash = org_bundles("org1", peers=(), users=("peer0",))[-1]
    with pytest.raises(UsageError):
        store.ensure_identity("net1", clash)
    assert ("net1-org1", "peer0-msp") not in api.objects
