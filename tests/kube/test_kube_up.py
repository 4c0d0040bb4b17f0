"""`baas up --target kubernetes` against a REAL etcd + kube-apiserver (no kubelet: pods never
start, so "objects applied" is tested here and "workloads ready" must time out clearly).

Covers: namespaces, NetworkPolicies, Secrets, Helm releases and workload objects read back;
`--no-wait` says the channel and chaincode steps were skipped (they need running nodes);
re-running changes nothing (resourceVersions and release revisions unchanged); `--wait` fails
with a message naming the workloads, before any channel step; `down --purge` removes
everything, the local channel state included; and, with the Vault store, the organisation's
Kubernetes-auth role works through the API server's real TokenReview while another
organisation's service account is refused.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import hvac
import pytest

import topology
from baas import plan as planning
from baas.cli.app import main
from baas.home import crypto_dir
from baas.runtimes.kubernetes import fabric_steps
from baas.runtimes.kubernetes.namespaces import namespace_manifests
from baas.runtimes.kubernetes.policies import network_policies
from tests.support.kubeapi import KubeCluster
from tests.support.networks import TWO_ORGS, kube_args, two_orgs_copy, vault_env
from tests.support.openbao import OpenBao

pytestmark = pytest.mark.kube

NAMESPACED = [
    ("v1", "Secret"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("policy/v1", "PodDisruptionBudget"),
    ("v1", "ServiceAccount"),
]


def _baas(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _kubectl_like(
    cluster: KubeCluster, namespace: str, api_version: str, kind: str
) -> dict[str, str]:
    """kind/name -> resourceVersion of every object of ``kind`` in ``namespace``."""
    from kubernetes.dynamic import DynamicClient

    dyn = DynamicClient(cluster.api_client())
    items = dyn.resources.get(api_version=api_version, kind=kind).get(namespace=namespace).items
    return {f"{kind}/{i.metadata.name}": str(i.metadata.resourceVersion) for i in items}


def _snapshot(cluster: KubeCluster, namespaces: list[str]) -> dict[str, str]:
    snap: dict[str, str] = {}
    for ns in namespaces:
        for api_version, kind in NAMESPACED:
            found = _kubectl_like(cluster, ns, api_version, kind)
            snap.update({f"{ns}/{k}": v for k, v in found.items()})
    return snap


def _helm_releases(cluster: KubeCluster, helm: Path, namespace: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [
            str(helm),
            "list",
            "-n",
            namespace,
            "-o",
            "json",
            "--kubeconfig",
            str(cluster.kubeconfig_path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    releases: list[dict[str, Any]] = json.loads(out or "[]")
    return releases


def _plan(path: Path) -> planning.Plan:
    return planning.build(topology.load(path).network)


def test_up_applies_every_object(
    kube_cluster: KubeCluster, helm_binary: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _baas(capsys, "up", str(TWO_ORGS), *kube_args(kube_cluster), "--no-wait")
    assert code == 0, text
    assert "channels and chaincode were not ensured (--no-wait)" in text
    plan = _plan(TWO_ORGS)
    assert not fabric_steps.state_dir(plan).exists()  # no channel step ran
    from kubernetes import client

    api = kube_cluster.api_client()
    core = client.CoreV1Api(api)
    for ns in namespace_manifests(plan):
        got = core.read_namespace(ns["metadata"]["name"])
        assert got.metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"
    net = client.NetworkingV1Api(api)
    want = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in network_policies(plan)}
    have = {
        (p.metadata.namespace, p.metadata.name)
        for p in net.list_network_policy_for_all_namespaces().items
    }
    assert want <= have
    secrets = {s.metadata.name for s in core.list_namespaced_secret("supplychain-org1").items}
    assert {"peer0-msp", "peer0-tls", "peer1-msp", "peer1-tls"} <= secrets
    tls = core.read_namespaced_secret("peer0-tls", "supplychain-org1")
    assert tls.type == "kubernetes.io/tls"
    for org in plan.orgs:
        releases = _helm_releases(kube_cluster, helm_binary, org.namespace)
        assert [(r["name"], r["status"]) for r in releases] == [(org.name, "deployed")]
    apps = client.AppsV1Api(api)
    sts = {s.metadata.name for s in apps.list_namespaced_stateful_set("supplychain-org1").items}
    assert len(sts) == 2, sts
    orderers = apps.list_namespaced_stateful_set("supplychain-ordererorg").items
    assert len(orderers) == 3
    assert "PRIVATE KEY" not in text  # key material never reaches the output


def test_second_up_changes_nothing(
    kube_cluster: KubeCluster, helm_binary: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = _plan(TWO_ORGS)
    namespaces = [o.namespace for o in plan.orgs]
    before = _snapshot(kube_cluster, namespaces)
    revisions = {
        o.name: _helm_releases(kube_cluster, helm_binary, o.namespace)[0]["revision"]
        for o in plan.orgs
    }
    code, text = _baas(capsys, "up", str(TWO_ORGS), *kube_args(kube_cluster), "--no-wait")
    assert code == 0, text
    assert "already up to date" in text
    assert _snapshot(kube_cluster, namespaces) == before
    assert {
        o.name: _helm_releases(kube_cluster, helm_binary, o.namespace)[0]["revision"]
        for o in plan.orgs
    } == revisions
    code = main(["up", str(TWO_ORGS), *kube_args(kube_cluster), "--no-wait", "-o", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    data = json.loads(out)  # stdout is the one JSON document
    assert (data["kind"], data["target"], data["changed"]) == ("UpResult", "kubernetes", False)
    assert data["network"] == [] and data["workloads"] == []
    assert data["networkSkipped"].startswith("channels and chaincode were not ensured")
    assert "run `baas up` again once the pods are ready" in data["networkSkipped"]


def test_waiting_without_nodes_names_the_workloads(
    kube_cluster: KubeCluster, helm_binary: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _baas(capsys, "up", str(TWO_ORGS), *kube_args(kube_cluster), "--timeout", "1")
    assert code == 1
    assert "workloads are not ready" in text
    assert "StatefulSet supplychain-org1/" in text
    assert "Traceback" not in text
    # the channel steps need ready nodes: none was attempted
    assert "not ensured" not in text
    assert not fabric_steps.state_dir(_plan(TWO_ORGS)).exists()


def test_status_reports_workloads(
    kube_cluster: KubeCluster, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _baas(capsys, "status", str(TWO_ORGS), *kube_args(kube_cluster), "-o", "json")
    assert code == 0, text
    data = json.loads(text[text.index("{") :])
    assert (data["kind"], data["target"]) == ("Status", "kubernetes")
    assert {"namespaces", "workloads"} <= set(data) and "bootstrap" not in data
    assert all(data["namespaces"].values())
    assert {w["ready"] for w in data["workloads"]} == {0}


def test_down_purge_removes_everything(
    kube_cluster: KubeCluster, helm_binary: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = _plan(TWO_ORGS)
    kept = fabric_steps.state_dir(plan)  # what channel steps and smoke leave on this machine
    fabric_steps.probe_marker(plan).parent.mkdir(parents=True)
    fabric_steps.probe_marker(plan).touch()
    (kept / "mychannel.block").write_bytes(b"genesis")
    code, text = _baas(capsys, "down", str(TWO_ORGS), *kube_args(kube_cluster), "--purge")
    assert code == 0, text
    assert f"removed {kept}" in text
    assert not kept.exists()
    assert crypto_dir(plan.network).is_dir()  # the PKI tree is not the cluster's: it stays
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    api = kube_cluster.api_client()
    core = client.CoreV1Api(api)
    for org in plan.orgs:
        assert _helm_releases(kube_cluster, helm_binary, org.namespace) == []
        assert core.list_namespaced_secret(org.namespace).items == []
        assert client.NetworkingV1Api(api).list_namespaced_network_policy(org.namespace).items == []
    for ns in namespace_manifests(plan):
        try:
            got = core.read_namespace(ns["metadata"]["name"])
        except ApiException as exc:
            assert exc.status == 404
        else:  # no namespace controller runs here to finish the deletion
            assert got.metadata.deletion_timestamp is not None
    # a second purge finds nothing left to do and still succeeds
    code, text = _baas(capsys, "down", str(TWO_ORGS), *kube_args(kube_cluster), "--purge")
    assert code == 0, text


# ----------------------------------------------------------------------------- Vault store


@pytest.fixture(scope="module")
def vault_topology(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return two_orgs_copy(tmp_path_factory.mktemp("vaultnet"), "vaultnet")


def _sa_token(cluster: KubeCluster, namespace: str, account: str) -> str:
    from kubernetes import client

    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[]))
    result = client.CoreV1Api(cluster.api_client()).create_namespaced_service_account_token(
        account, namespace, request
    )
    return str(result.status.token)


def test_vault_store_and_kubernetes_auth_through_tokenreview(
    kube_cluster: KubeCluster,
    helm_binary: Path,
    home: Path,
    bao: OpenBao,
    vault_topology: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with vault_env(bao):
        code, text = _baas(
            capsys,
            "up",
            str(vault_topology),
            *kube_args(kube_cluster),
            "--secrets",
            "vault",
            "--no-wait",
        )
        assert code == 0, text
        assert bao.root_token not in text
        code, again = _baas(
            capsys,
            "up",
            str(vault_topology),
            *kube_args(kube_cluster),
            "--secrets",
            "vault",
            "--no-wait",
        )
        assert code == 0, again
        assert "already up to date" in again
    from kubernetes import client

    core = client.CoreV1Api(kube_cluster.api_client())
    assert core.list_namespaced_secret("vaultnet-org1", label_selector="baas.io/org").items == []
    # org1's pods log in with their own service account: Vault asks the API server (TokenReview)
    jwt = _sa_token(kube_cluster, "vaultnet-org1", "org1-fabric")
    org1 = hvac.Client(url=bao.addr)
    org1.auth.kubernetes.login(role="baas-vaultnet-org1", jwt=jwt)
    peer = org1.secrets.kv.v2.read_secret_version(
        path="vaultnet/org1/peer0.org1.example.com",
        mount_point="baas",
        raise_on_deleted_version=True,
    )
    assert "BEGIN CERTIFICATE" in json.dumps(peer["data"]["data"])
    with pytest.raises(hvac.exceptions.Forbidden):
        org1.secrets.kv.v2.read_secret_version(
            path="vaultnet/org2/peer0.org2.example.com",
            mount_point="baas",
            raise_on_deleted_version=True,
        )
    # org2's service account cannot use org1's role
    with pytest.raises(hvac.exceptions.VaultError):
        hvac.Client(url=bao.addr).auth.kubernetes.login(
            role="baas-vaultnet-org1", jwt=_sa_token(kube_cluster, "vaultnet-org2", "org2-fabric")
        )
    with vault_env(bao):
        code, text = _baas(
            capsys,
            "down",
            str(vault_topology),
            *kube_args(kube_cluster),
            "--secrets",
            "vault",
            "--purge",
        )
        assert code == 0, text
    admin = hvac.Client(url=bao.addr, token=bao.root_token)
    assert "baas-vaultnet-org1" not in admin.sys.list_acl_policies()["data"]["keys"]
