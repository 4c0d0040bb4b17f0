"""`baas plan FILE --target kubernetes` against a REAL etcd + kube-apiserver and helm.

Covers, on a network of its own (``plannet``, so that test_kube_up.py's objects in the same
session do not interfere): before ``up`` everything is to be created/installed and every
identity issued, and plan writes neither the crypto tree nor the cluster; after ``up`` everything
is ``unchanged`` and plan leaves every resourceVersion and release revision as it was; after
adding a peer and a user, plan names exactly the new Secrets, the org1 release upgrade (values
``peers``), the NetworkPolicies and the toolbox ConfigMap/Job that differ; in Vault mode, KV
records are compared read-only. No private key material appears in any output.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import topology
from baas import plan as planning
from baas.cli.app import main
from baas.home import crypto_dir
from baas.runtimes.kubernetes.policies import network_policies
from tests.support.kubeapi import KubeCluster
from tests.support.networks import kube_args, pending_changes, two_orgs_copy, vault_env
from tests.support.openbao import OpenBao

pytestmark = pytest.mark.kube

NETWORK = "plannet"
KINDS = [
    ("v1", "Namespace"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
    ("policy/v1", "PodDisruptionBudget"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("plannet")
    return two_orgs_copy(directory, NETWORK), two_orgs_copy(directory, NETWORK, grow=True)


def _baas(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _plan_json(
    capsys: pytest.CaptureFixture[str], cluster: KubeCluster, file: Path, *extra: str
) -> dict[str, Any]:
    code, out, err = _baas(capsys, "plan", str(file), *kube_args(cluster), *extra, "-o", "json")
    assert code == 0, out + err
    data: dict[str, Any] = json.loads(out)
    assert (data["kind"], data["apiVersion"]) == ("Plan", "baas/v1alpha1")
    assert {"network", "orgs", "channels", "changes", "warnings"} <= set(data)
    changes: dict[str, Any] = data["changes"]
    return changes


def _items(changes: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = changes["objects"] + changes["bootstrap"]
    return items


def _snapshot(cluster: KubeCluster) -> dict[str, str]:
    """kind/namespace/name -> resourceVersion of every object of the network."""
    from kubernetes.dynamic import DynamicClient

    dyn = DynamicClient(cluster.api_client())
    snap: dict[str, str] = {}
    for api_version, kind in KINDS:
        for item in dyn.resources.get(api_version=api_version, kind=kind).get().items:
            meta = item.metadata
            where = f"{meta.namespace or ''}/{meta.name}"
            if where.lstrip("/").startswith(NETWORK):
                snap[f"{kind} {where}"] = str(meta.resourceVersion)
    return snap


def _revisions(cluster: KubeCluster, helm: Path) -> dict[str, int]:
    out = subprocess.run(
        [str(helm), "list", "-A", "-o", "json", "--kubeconfig", str(cluster.kubeconfig_path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {
        f"{r['namespace']}/{r['name']}": int(r["revision"])
        for r in json.loads(out or "[]")
        if r["namespace"].startswith(NETWORK)
    }


def _tree_state(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


def _key_texts(root: Path) -> list[str]:
    """Every private key under the crypto tree, as PEM body lines and base64 of the file."""
    texts = []
    for path in root.rglob("*"):
        if path.is_file() and b"PRIVATE KEY" in path.read_bytes():
            data = path.read_bytes()
            texts.append(base64.b64encode(data).decode())
            texts += [line for line in data.decode().splitlines() if "-----" not in line]
    return texts


def _assert_no_keys(text: str, root: Path) -> None:
    assert "PRIVATE KEY" not in text
    for secret in _key_texts(root):
        assert secret not in text


def test_before_up_everything_would_be_created_and_nothing_is_written(
    kube_cluster: KubeCluster,
    helm_binary: Path,
    home: Path,
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = files[0]
    the_plan = planning.build(topology.load(file).network)
    changes = _plan_json(capsys, kube_cluster, file)
    assert changes["crypto"]["exists"] is False
    identities = {(o.name, i) for o in the_plan.orgs for i in o.identities}
    assert {(i["org"], i["name"]) for i in changes["pki"]} == identities
    actions = {o["action"] for o in _items(changes)}
    assert actions == {"create"}
    kinds = {o["kind"] for o in _items(changes)}
    assert kinds == {"Namespace", "NetworkPolicy", "Secret", "ConfigMap", "Job"}
    secrets = [o for o in changes["objects"] if o["kind"] == "Secret"]
    assert len(secrets) == 2 * len(identities)
    assert [(r["name"], r["action"]) for r in changes["releases"]] == [
        (o.name, "install") for o in the_plan.orgs
    ]
    assert changes["summary"]["update"] == changes["summary"]["unchanged"] == 0
    # plan wrote nothing: no crypto tree, no namespace, no release
    assert not crypto_dir(NETWORK).exists()
    assert _snapshot(kube_cluster) == {}
    assert _revisions(kube_cluster, helm_binary) == {}
    code, out, err = _baas(capsys, "plan", str(file), *kube_args(kube_cluster))
    assert code == 0, out + err
    assert "does not exist yet" in out
    assert "release plannet-org1/org1: install" in out
    total = changes["summary"]["create"]
    assert f"{total} to create, 0 to update, 0 unchanged" in out
    assert not crypto_dir(NETWORK).exists()


def test_after_up_everything_is_unchanged_and_plan_writes_nothing(
    kube_cluster: KubeCluster,
    helm_binary: Path,
    home: Path,
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = files[0]
    code, out, err = _baas(capsys, "up", str(file), *kube_args(kube_cluster), "--no-wait")
    assert code == 0, out + err
    root = crypto_dir(NETWORK)
    before = _snapshot(kube_cluster), _revisions(kube_cluster, helm_binary), _tree_state(root)
    assert before[0] and before[1]
    changes = _plan_json(capsys, kube_cluster, file)
    code, out, err = _baas(capsys, "plan", str(file), *kube_args(kube_cluster))
    assert code == 0, out + err
    after = _snapshot(kube_cluster), _revisions(kube_cluster, helm_binary), _tree_state(root)
    assert after == before
    assert pending_changes(changes) == set()
    assert changes["pki"] == []
    assert changes["changed"] is False
    unchanged = changes["summary"]["unchanged"]
    assert f"0 to create, 0 to update, {unchanged} unchanged" in out
    assert "Secret plannet-org1/peer0-tls: unchanged" in out
    _assert_no_keys(out + err + json.dumps(changes), root)


def test_after_growing_the_topology_plan_names_exactly_what_changes(
    kube_cluster: KubeCluster,
    helm_binary: Path,
    home: Path,
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    old_file, new_file = files
    old = planning.build(topology.load(old_file).network)
    new = planning.build(topology.load(new_file).network)
    before = _snapshot(kube_cluster), _revisions(kube_cluster, helm_binary)
    changes = _plan_json(capsys, kube_cluster, new_file)
    assert {(i["org"], i["name"]) for i in changes["pki"]} == {
        ("org1", "peer2.org1.example.com"),
        ("org1", "carol@org1.example.com"),
    }

    # an independent oracle for the policies: those whose manifest differs
    def where(policy: dict[str, Any]) -> str:
        return f"{policy['metadata']['namespace']}/{policy['metadata']['name']}"

    old_policies = {where(p): p for p in network_policies(old)}
    policies = {
        ("NetworkPolicy", where(p))
        for p in network_policies(new)
        if old_policies.get(where(p)) != p
    }
    got = pending_changes(changes)
    got_policies = {(k, where) for k, where, *_ in got if k == "NetworkPolicy"}
    assert got_policies == policies
    jobs = [o for o in changes["bootstrap"] if o["kind"] == "Job"]
    old_job = next(j["name"] for j in jobs if j["action"] == "delete")
    new_job = next(j["name"] for j in jobs if j["action"] == "create")
    assert old_job != new_job
    expected = {
        ("Secret", "plannet-org1/peer2-msp", "create"),
        ("Secret", "plannet-org1/peer2-tls", "create"),
        ("Secret", "plannet-org1/carol-msp", "create"),
        ("Secret", "plannet-org1/carol-tls", "create"),
        ("release", "plannet-org1/org1", "upgrade", "values peers"),
        ("ConfigMap", "plannet-toolbox/bootstrap-inputs", "update", "data"),
        ("Job", f"plannet-toolbox/{old_job}", "delete"),
        ("Job", f"plannet-toolbox/{new_job}", "create"),
    }
    assert {g for g in got if g[0] != "NetworkPolicy"} == expected
    assert (_snapshot(kube_cluster), _revisions(kube_cluster, helm_binary)) == before
    # applying it, then planning again, finds nothing left to do
    code, out, err = _baas(capsys, "up", str(new_file), *kube_args(kube_cluster), "--no-wait")
    assert code == 0, out + err
    again = _plan_json(capsys, kube_cluster, new_file)
    assert pending_changes(again) == set()
    assert again["pki"] == []
    _assert_no_keys(json.dumps(changes) + json.dumps(again), crypto_dir(NETWORK))


def test_drift_made_by_hand_is_named_by_field_then_repaired_by_up(
    kube_cluster: KubeCluster,
    helm_binary: Path,
    home: Path,
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kubernetes import client

    new_file = files[1]
    api = kube_cluster.api_client()
    core, net = client.CoreV1Api(api), client.NetworkingV1Api(api)
    secret = core.read_namespaced_secret("peer0-tls", "plannet-org1")
    secret.data["tls.crt"] = base64.b64encode(b"not the certificate").decode()
    core.replace_namespaced_secret("peer0-tls", "plannet-org1", secret, field_manager="someone")
    policy = net.read_namespaced_network_policy("peer-gossip-org2", "plannet-org1")
    policy.spec.egress = [{"ports": [{"port": 1, "protocol": "TCP"}]}]
    policy.metadata.labels["extra"] = "by-hand"
    net.replace_namespaced_network_policy(
        "peer-gossip-org2", "plannet-org1", policy, field_manager="someone"
    )
    before = _snapshot(kube_cluster)
    changes = _plan_json(capsys, kube_cluster, new_file)
    assert pending_changes(changes) == {
        ("Secret", "plannet-org1/peer0-tls", "update", "data"),
        ("NetworkPolicy", "plannet-org1/peer-gossip-org2", "update", "spec.egress"),
    }  # baas does not own the extra label: applying leaves it, so it is no difference
    assert _snapshot(kube_cluster) == before
    code, out, err = _baas(capsys, "up", str(new_file), *kube_args(kube_cluster), "--no-wait")
    assert code == 0, out + err
    assert pending_changes(_plan_json(capsys, kube_cluster, new_file)) == set()
    _assert_no_keys(json.dumps(changes), crypto_dir(NETWORK))


def test_composed_toolbox_inputs_equal_build_inputs(home: Path, files: tuple[Path, Path]) -> None:
    """Guard: the path plan uses while peers or users are still to be issued builds exactly
    what ensure_bootstrap's build_inputs builds (checked on the complete tree `up` left)."""
    from dataclasses import replace

    from baas.runtimes.kubernetes.bootstrap import BootstrapOptions, build_inputs
    from baas.runtimes.kubernetes.planning import readable_view, toolbox_inputs

    the_plan = planning.build(topology.load(files[1]).network)
    root = crypto_dir(NETWORK)
    options = BootstrapOptions(image_registry="registry.example")
    composed = toolbox_inputs(the_plan, root, options, readable=replace(the_plan))
    assert composed == build_inputs(the_plan, root, options)
    org1 = the_plan.org("org1")
    view = readable_view(the_plan, {("org1", org1.peers[-1].fqdn), ("org1", org1.users[-1])})
    assert view is not None
    assert len(view.org("org1").peers) == len(org1.peers) - 1
    assert readable_view(the_plan, {("org1", org1.admin)}) is None
    assert readable_view(the_plan, set()) is the_plan


# ----------------------------------------------------------------------------- Vault mode


def test_vault_mode_compares_kv_records_read_only(
    kube_cluster: KubeCluster,
    helm_binary: Path,
    home: Path,
    bao: OpenBao,
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    import pki
    from baas.plan import pki_org_specs_from_plan
    from baas.secrets.vault import VaultStore

    new_file = files[1]  # deployed by the previous test with Kubernetes Secrets
    the_plan = planning.build(topology.load(new_file).network)
    specs = {s.name: s for s in pki_org_specs_from_plan(the_plan)}
    with vault_env(bao):
        store = VaultStore.from_settings()
        org1 = pki.load_bundles(crypto_dir(NETWORK), specs["org1"])
        store.ensure_identities(NETWORK, org1)
        before = _snapshot(kube_cluster)
        changes = _plan_json(capsys, kube_cluster, new_file, "--secrets", "vault")
        code, out, err = _baas(
            capsys, "plan", str(new_file), *kube_args(kube_cluster), "--secrets", "vault"
        )
    assert code == 0, out + err
    assert bao.root_token not in out + err + json.dumps(changes)
    vault = {(v["org"], v["name"]): v["action"] for v in changes["vault"]}
    assert {k for k, a in vault.items() if a == "unchanged"} == {("org1", b.name) for b in org1}
    assert {a for (org, _), a in vault.items() if org != "org1"} == {"create"}
    created = {(o["kind"], o["name"]) for o in changes["objects"] if o["action"] == "create"}
    assert ("NetworkPolicy", "allow-vault") in created
    assert ("ServiceAccount", "baas-vault-reviewer") in created
    assert not any(o["kind"] == "Secret" for o in changes["objects"])
    assert {r["action"] for r in changes["releases"]} == {"upgrade"}
    assert all("values secrets" in r["reasons"] for r in changes["releases"])
    assert "vault identity org1/peer0.org1.example.com: unchanged" in out
    assert _snapshot(kube_cluster) == before
    _assert_no_keys(out + json.dumps(changes), crypto_dir(NETWORK))
