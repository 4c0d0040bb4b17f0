"""`baas up --target kubernetes` on the real single-node cluster, with Fabric's own images.

The peer and orderer images are assembled from the pinned Fabric binaries found on this
machine, the smoke probe's server image from this machine's Node.js (tests/support/oci.py,
kube_images.py); without the binaries every case skips saying why (the cluster's own smoke in
test_cluster_smoke.py still runs). In order, on one deployment of examples/two-orgs.yaml
(Fabric 2.5.16, Kubernetes Secrets):

* ``up`` brings the pods to Ready and creates, joins and defines through the admin route;
* ``smoke`` is green: workloads, ``helm test``, and every transaction check;
* a second ``up`` changes nothing;
* NetworkPolicies are enforced, with real connections from pods: org2 cannot open org1's
  chaincode server, a pod in an unlabelled namespace reaches no orderer admin port, a peer
  reaches its channel's orderers;
* renewing one peer's certificates and running ``up`` restarts exactly that peer's pod;
* ``down --purge`` leaves none of the network's namespaces' workloads behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

import topology
from baas import services
from baas.runtimes.kubernetes.cluster import ClusterTarget
from baas.runtimes.kubernetes.runtime import KubeOptions
from baas.services import chaincode as chaincode_calls
from baas.smoke.probe import DEFAULT_IMAGE
from tests.support import kube_images, oci
from tests.support.cluster import NodeCluster, busybox_pod, wait_pod_ready
from tests.support.fabric import fabric_install_or_skip

pytestmark = pytest.mark.fabric

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TWO_ORGS = EXAMPLES / "two-orgs.yaml"
RELEASE = "2.5.16"
NETWORK = "supplychain"
BASIC_IMAGE = "baas-test/asset-transfer:1.0"


@dataclass
class Deployed:
    cluster: NodeCluster
    loaded: topology.LoadedTopology
    kube: KubeOptions
    first_up: Any
    seconds: float


def _with_basic_image(folder: Path) -> Path:
    """examples/two-orgs.yaml with :data:`BASIC_IMAGE` as basic's server image, in ``folder``
    (the chaincode path made absolute)."""
    doc = yaml.safe_load(TWO_ORGS.read_text())
    for cc in doc["spec"]["chaincodes"]:
        cc["path"] = str(EXAMPLES / cc["path"])
        if cc["name"] == "basic":
            cc["image"] = BASIC_IMAGE
    path = folder / TWO_ORGS.name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _pods(api: Any, namespace: str) -> dict[str, str]:
    """Pod name → uid in ``namespace``."""
    items = client.CoreV1Api(api).list_namespaced_pod(namespace).items
    return {p.metadata.name: p.metadata.uid for p in items}


@pytest.fixture(scope="module")
def deployed(
    kube_node_cluster: NodeCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    fabric_install_or_skip(RELEASE)
    busybox = kube_node_cluster.binaries.busybox
    for image in oci.fabric_images(RELEASE, busybox=busybox):
        kube_node_cluster.import_image(image)
    kube_node_cluster.import_image(kube_images.probe_image(busybox=busybox, ref=DEFAULT_IMAGE))
    # basic gets a chaincode-as-a-service image, so that invoke and query have a server to reach
    kube_node_cluster.import_image(
        oci.build_image(
            kube_images.node_chaincode_spec(
                EXAMPLES / "chaincode" / "asset-transfer", ref=BASIC_IMAGE, busybox=busybox
            )
        )
    )
    home = tmp_path_factory.mktemp("baas-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BAAS_HOME", str(home))
        loaded = topology.load(_with_basic_image(tmp_path_factory.mktemp("topology")))
        kube = KubeOptions(
            target=ClusterTarget(kubeconfig=kube_node_cluster.kubeconfig_path), timeout=600.0
        )
        start = time.monotonic()
        result = services.up(loaded, target="kubernetes", kube=kube).value
        seconds = time.monotonic() - start
        try:
            yield Deployed(kube_node_cluster, loaded, kube, result, seconds)
        finally:
            services.down(loaded, target="kubernetes", kube=kube, purge=True)


def test_up_runs_the_network_through_the_admin_route(deployed: Deployed) -> None:
    done = deployed.first_up.to_dict()
    assert all(w["ready"] for w in done["workloads"]), done["workloads"]
    actions = {(c["action"], c["target"]) for c in done["network"]}
    assert ("created", "genesis block of mychannel") in actions
    joined = {t for a, t in actions if a == "joined"}
    assert {"peer0.org1.example.com", "peer1.org2.example.com"} <= {
        t.split(" ")[0] for t in joined
    } or len(joined) >= 4, done["network"]
    assert any(c["action"] == "committed" and c["target"] == "basic" for c in done["network"])


def test_chaincode_list_through_the_admin_route(deployed: Deployed) -> None:
    """``baas chaincode list -t kubernetes``: the committed definition and each org's
    approved package, read through port-forwards like every other admin call."""
    listed = chaincode_calls.chaincode_list(
        deployed.loaded, target="kubernetes", kube=deployed.kube
    ).to_dict()
    [channel] = listed["channels"]
    basic = next(c for c in channel["committed"] if c["name"] == "basic")
    assert (basic["version"], basic["sequence"]) == ("1.0", 1)
    assert {a["mspId"] for a in basic["approvals"] if a["packageId"]} == {"Org1MSP", "Org2MSP"}
    assert len(listed["peers"]) == 4 and all(p["error"] is None for p in listed["peers"])


def test_invoke_and_query_through_the_admin_route(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    """``baas invoke -t kubernetes`` commits through every member organisation's peer and
    ``baas query -t kubernetes`` reads it back from another organisation's peer, both through
    the runtime's port-forwards (the CLI, as a user runs it)."""
    from baas.cli.app import main

    asset = f"k8s-{secrets.token_hex(3)}"
    cluster = ["-t", "kubernetes", "--kubeconfig", str(deployed.cluster.kubeconfig_path)]
    top = str(deployed.loaded.path)
    capsys.readouterr()
    code = main(
        ["invoke", top, "basic", *cluster, "--", "CreateAsset", asset, "blue", "5", "T", "1"]
    )
    invoked = capsys.readouterr()
    assert code == 0, invoked.err
    assert "committed " in invoked.err and " as alice@org1.example.com " in invoked.err
    peer = ["--peer", "peer1.org2.example.com"]
    code = main(
        ["query", top, "basic", "ReadAsset", asset, *cluster, *peer, "--as", "bob", "-o", "json"]
    )
    queried = capsys.readouterr()
    assert code == 0, queried.err
    answer = json.loads(queried.out)
    assert answer["identity"] == "bob@org2.example.com"
    assert json.loads(answer["result"])["ID"] == asset


def test_smoke_is_green_on_the_cluster(deployed: Deployed) -> None:
    report = services.smoke(deployed.loaded, target="kubernetes", kube=deployed.kube).value
    by_name = {c.name: c for c in report.checks}
    failed = [f"{c.name}: {c.message}" for c in report.checks if c.status == "failed"]
    assert report.passed, failed
    for name in ("helm test org1", "helm test org2", "nodes healthy", "channel membership"):
        assert by_name[name].status == "passed", by_name[name]
    assert any(n.startswith("endorsement") and c.passed for n, c in by_name.items()), by_name


def test_second_up_changes_nothing(deployed: Deployed) -> None:
    api = deployed.cluster.api_client()
    try:
        before = {ns: _pods(api, ns) for ns in ("supplychain-org1", "supplychain-ordererorg")}
        again = services.up(deployed.loaded, target="kubernetes", kube=deployed.kube).value
        assert not again.changed, again.to_dict()
        after = {ns: _pods(api, ns) for ns in before}
        assert after == before
    finally:
        api.close()


def _restricted(pod: dict[str, Any]) -> dict[str, Any]:
    """``pod`` made to pass the ``restricted`` Pod Security level baas's namespaces enforce."""
    pod["spec"]["securityContext"] = {
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    for container in pod["spec"]["containers"]:
        container["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        }
    return pod


def _service(namespace: str, name: str) -> str:
    return f"{name}.{namespace}.svc.cluster.local"


def test_network_policies_are_enforced(deployed: Deployed) -> None:
    cluster = deployed.cluster
    api = cluster.api_client()
    core = client.CoreV1Api(api)
    outside = f"outside-{secrets.token_hex(3)}"
    core.create_namespace({"metadata": {"name": outside}})
    try:
        # a pod in org2's namespace dressed as org2's peer (the chart's labels)
        peer_labels = {
            "app.kubernetes.io/name": "fabric",
            "app.kubernetes.io/instance": "org2",
            "app.kubernetes.io/component": "peer",
        }
        fake = busybox_pod("fake-peer", ["sleep", "3600"], labels=peer_labels)
        core.create_namespaced_pod("supplychain-org2", _restricted(fake))
        core.create_namespaced_pod(outside, busybox_pod("stranger", ["sleep", "3600"]))
        wait_pod_ready(api, "supplychain-org2", "fake-peer")
        wait_pod_ready(api, outside, "stranger")
        org1_cc = _service("supplychain-org1", "cc-baas-probe-mychannel")
        orderer = _service("supplychain-ordererorg", "orderer0")
        # the control: the stranger reaches nothing, the dressed-up org2 pod does reach the
        # orderers' broadcast port (peers may), but not org1's chaincode server
        assert cluster.can_open("supplychain-org2", "fake-peer", orderer, 7050)
        assert not cluster.can_open("supplychain-org2", "fake-peer", org1_cc, 9999)
        assert not cluster.can_open(outside, "stranger", orderer, 7050)
        # a real peer (its image carries busybox) reaches every orderer of its channel
        for name in ("orderer0", "orderer1", "orderer2"):
            host = _service("supplychain-ordererorg", name)
            assert cluster.can_open("supplychain-org1", "peer0-0", host, 7050), name
            # no pod reaches an orderer's admin port: only the RBAC-granted admin route does
            assert not cluster.can_open(outside, "stranger", host, 7053), name
            assert not cluster.can_open("supplychain-org1", "peer0-0", host, 7053), name
    finally:
        with contextlib.suppress(client.ApiException):
            core.delete_namespaced_pod("fake-peer", "supplychain-org2", grace_period_seconds=0)
        core.delete_namespace(outside, grace_period_seconds=0)
        api.close()


def test_renewal_rolls_exactly_the_renewed_peer(deployed: Deployed) -> None:
    api = deployed.cluster.api_client()
    try:
        namespaces = ("supplychain-org1", "supplychain-org2", "supplychain-ordererorg")
        before = {ns: _pods(api, ns) for ns in namespaces}
        services.pki_renew(deployed.loaded, identity="peer1.org1.example.com")
        services.up(deployed.loaded, target="kubernetes", kube=deployed.kube)
        after = {ns: _pods(api, ns) for ns in namespaces}
        changed = sorted(
            f"{ns}/{name}"
            for ns in namespaces
            for name, uid in after[ns].items()
            if before[ns].get(name) != uid and not name.startswith(("org1-test", "org2-test"))
        )
        assert changed == ["supplychain-org1/peer1-0"], changed
    finally:
        api.close()


def test_down_purge_leaves_nothing(deployed: Deployed) -> None:
    api = deployed.cluster.api_client()
    try:
        services.down(deployed.loaded, target="kubernetes", kube=deployed.kube, purge=True)
        core = client.CoreV1Api(api)
        namespaces = [f"{NETWORK}-{o}" for o in ("ordererorg", "org1", "org2", "toolbox")]

        def gone() -> bool:
            live = {n.metadata.name for n in core.list_namespace().items}
            return not live & set(namespaces)

        deadline = time.monotonic() + 180
        while not gone() and time.monotonic() < deadline:
            time.sleep(1)
        assert gone(), "namespaces still present after down --purge"
        assert not (Path(os.environ["BAAS_HOME"]) / "networks" / NETWORK / "kubernetes").exists()
    finally:
        api.close()


def test_bft_network_on_fabric_3_comes_up_and_passes_smoke(
    kube_node_cluster: NodeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """examples/bft.yaml (4 BFT orderers, Fabric 3.1.5 images) through the same route."""
    fabric_install_or_skip("3.1.5")
    busybox = kube_node_cluster.binaries.busybox
    for image in oci.fabric_images("3.1.5", busybox=busybox):
        kube_node_cluster.import_image(image)
    kube_node_cluster.import_image(kube_images.probe_image(busybox=busybox, ref=DEFAULT_IMAGE))
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    loaded = topology.load(EXAMPLES / "bft.yaml")
    kube = KubeOptions(
        target=ClusterTarget(kubeconfig=kube_node_cluster.kubeconfig_path), timeout=600.0
    )
    try:
        up = services.up(loaded, target="kubernetes", kube=kube).value
        assert any(c.action == "committed" for c in up.network), up.to_dict()
        report = services.smoke(loaded, target="kubernetes", kube=kube).value
        failed = [f"{c.name}: {c.message}" for c in report.checks if c.status == "failed"]
        assert report.passed, failed
    finally:
        services.down(loaded, target="kubernetes", kube=kube, purge=True)
