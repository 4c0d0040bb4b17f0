"""`baas plan FILE --target kubernetes` against a REAL etcd + kube-apiserver and helm.

Covers, on a network of its own (``plannet``, so that test_kube_up.py's objects in the same
session do not interfere): before ``up`` everything is to be created/installed and every
identity issued, and plan writes neither the crypto tree nor the cluster; after ``up`` everything
is ``unchanged`` and plan leaves every resourceVersion and release revision as it was; after
adding a peer and a user, plan names exactly the new Secrets, the org1 release upgrade (values
``peers``) and the NetworkPolicies that differ, and ``up`` then does exactly that; in Vault mode,
KV records are compared read-only. No private key material appears in any output.

Channels: no pod ever runs on this API server, so after ``up --no-wait`` plan says each channel
is still to ``create and join (after the nodes start)``; before the crypto tree exists, or
without Fabric binaries for configtxgen, it says that instead.
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
from baas.secrets.kubernetes import secret_names
from tests.support.kubeapi import KubeCluster
from tests.support.networks import (
    channel_lines,
    kube_args,
    pending_changes,
    two_orgs_copy,
    vault_env,
)
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
    items: list[dict[str, Any]] = changes["objects"]
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
    assert kinds == {"Namespace", "NetworkPolicy", "Secret"}  # no toolbox Job any more
    assert changes["channels"] == ["channel mychannel: create and join (no crypto tree yet)"]
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
    assert "  channel mychannel: create and join (no crypto tree yet)" in out.splitlines()
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
    the_plan = planning.build(topology.load(file).network)
    planned = _plan_json(capsys, kube_cluster, file)
    code, out, err = _baas(
        capsys, "up", str(file), *kube_args(kube_cluster), "--no-wait", "-o", "json"
    )
    assert code == 0, out + err
    result = json.loads(out)
    done = _done_by_up(result)
    assert done == _said_by_plan(planned, the_plan)  # up did what plan said
    assert {"Namespace plannet-org1: created", "release plannet-org1/org1: installed"} <= done
    assert "secret org1/peer0.org1.example.com" in done
    assert result["network"] == []
    assert "--no-wait" in result["networkSkipped"]
    root = crypto_dir(NETWORK)
    before = _snapshot(kube_cluster), _revisions(kube_cluster, helm_binary), _tree_state(root)
    assert before[0] and before[1]
    changes = _plan_json(capsys, kube_cluster, file)
    code, out, err = _baas(capsys, "plan", str(file), *kube_args(kube_cluster))
    assert code == 0, out + err
    after = _snapshot(kube_cluster), _revisions(kube_cluster, helm_binary), _tree_state(root)
    assert after == before
    # `up --no-wait` left only the channels, which need running nodes (none run here)
    assert pending_changes(changes) == channel_lines(the_plan)
    assert changes["pki"] == []
    assert changes["changed"] is True
    unchanged = changes["summary"]["unchanged"]
    assert f"0 to create, 0 to update, {unchanged} unchanged" in out
    assert "  channel mychannel: create and join (after the nodes start)" in out.splitlines()
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
    expected = {
        ("Secret", "plannet-org1/peer2-msp", "create"),
        ("Secret", "plannet-org1/peer2-tls", "create"),
        ("Secret", "plannet-org1/carol-msp", "create"),
        ("Secret", "plannet-org1/carol-tls", "create"),
        ("release", "plannet-org1/org1", "upgrade", "values peers"),
        *channel_lines(new),
    }
    assert {g for g in got if g[0] != "NetworkPolicy"} == expected
    assert (_snapshot(kube_cluster), _revisions(kube_cluster, helm_binary)) == before
    # applying it does exactly what plan said, then planning again finds nothing left to do
    code, out, err = _baas(
        capsys, "up", str(new_file), *kube_args(kube_cluster), "--no-wait", "-o", "json"
    )
    assert code == 0, out + err
    done = _done_by_up(json.loads(out))
    assert done == _said_by_plan(changes, new)
    assert {"release plannet-org1/org1: upgraded", "secret org1/carol@org1.example.com"} <= done
    again = _plan_json(capsys, kube_cluster, new_file)
    assert pending_changes(again) == channel_lines(new)  # still no node runs here
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
    new = planning.build(topology.load(new_file).network)
    channels = channel_lines(new)
    assert pending_changes(changes) == {
        ("Secret", "plannet-org1/peer0-tls", "update", "data"),
        ("NetworkPolicy", "plannet-org1/peer-gossip-org2", "update", "spec.egress"),
        *channels,
    }  # baas does not own the extra label: applying leaves it, so it is no difference
    assert _snapshot(kube_cluster) == before
    code, out, err = _baas(
        capsys, "up", str(new_file), *kube_args(kube_cluster), "--no-wait", "-o", "json"
    )
    assert code == 0, out + err
    done = _done_by_up(json.loads(out))
    assert done == _said_by_plan(changes, new)
    assert done == {
        "NetworkPolicy plannet-org1/peer-gossip-org2: updated",
        "secret org1/peer0.org1.example.com",
    }
    assert pending_changes(_plan_json(capsys, kube_cluster, new_file)) == channels
    _assert_no_keys(json.dumps(changes), crypto_dir(NETWORK))


def test_without_fabric_binaries_plan_says_the_channels_cannot_be_read(
    kube_cluster: KubeCluster,
    helm_binary: Path,
    home: Path,
    files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No configtxgen (``FABRIC_BIN`` names an empty folder, so no other place is searched):
    plan still compares every object and release, and says why the channels are not read."""
    monkeypatch.setenv("FABRIC_BIN", str(tmp_path))
    new = planning.build(topology.load(files[1]).network)
    changes = _plan_json(capsys, kube_cluster, files[1])
    why = "no Fabric binaries (configtxgen)"
    assert pending_changes(changes) == channel_lines(new, why)
    assert changes["releases"] and changes["objects"]


def _said_by_plan(changes: dict[str, Any], the_plan: planning.Plan) -> set[str]:
    """What a plan's change list says ``up`` will change, in ``up``'s words: each object
    created or updated, each release installed or upgraded, each identity of ``the_plan``
    whose Secrets change (``secret org/identity``)."""
    verbs = {"create": "created", "update": "updated", "install": "installed"}
    said = {
        f"{o['kind']} {o['namespace'] + '/' if o['namespace'] else ''}{o['name']}: "
        + verbs[o["action"]]
        for o in changes["objects"]
        if o["action"] != "unchanged" and o["kind"] != "Secret"
    }
    said |= {
        f"release {r['namespace']}/{r['name']}: " + verbs.get(r["action"], "upgraded")
        for r in changes["releases"]
        if r["action"] != "unchanged"
    }
    secrets = {
        (o["namespace"], o["name"])
        for o in changes["objects"]
        if o["kind"] == "Secret" and o["action"] != "unchanged"
    }
    for org in the_plan.orgs:
        for identity in org.identities:
            names = secret_names(identity)
            if {(org.namespace, names.msp), (org.namespace, names.tls)} & secrets:
                said.add(f"secret {org.name}/{identity}")
    return said


def _done_by_up(result: dict[str, Any]) -> set[str]:
    """What ``up -o json`` says it changed, in the words of :func:`_said_by_plan`."""
    done = {o for o in result["objects"] if not o.endswith(": unchanged")}
    done |= {r.split(" (revision")[0] for r in result["releases"] if ": unchanged" not in r}
    done |= {f"secret {k}" for k, v in result["secrets"].items() if v != "unchanged"}
    return done


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
