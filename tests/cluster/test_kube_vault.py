"""`baas up --target kubernetes --secrets vault` on the real single-node cluster.

The same deployment as test_kube_network.py (examples/two-orgs.yaml, Fabric 2.5.16 images
assembled from the pinned binaries; skipped saying why without them), with the key material in
Vault instead of Kubernetes Secrets:

* the server is an OpenBao dev server on the node IP (pods reach it; ``VAULT_ADDR`` is an IP
  address, so baas's ``allow-vault`` egress policy is an ``ipBlock``);
* HashiCorp's Vault Agent Injector (vault-k8s, tests/support/vault_injector.py) mutates the
  chart's annotated pods: an init container running OpenBao's ``bao agent`` logs in with the
  org's Kubernetes-auth role (Vault asks the API server: TokenReview) and renders the MSP and TLS
  files into the crypto dir.

In order: ``up`` brings every pod to Ready, each node with the injected agent and none of the
network's keys in a Secret; ``smoke`` is green; ``down --purge`` leaves no workload behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

import topology
from baas import services
from baas.runtimes.kubernetes.cluster import ClusterTarget
from baas.runtimes.kubernetes.runtime import KubeOptions
from baas.smoke.probe import DEFAULT_IMAGE
from tests.support import kube_images, oci
from tests.support.cluster import NODE_IP, NodeCluster
from tests.support.fabric import fabric_install_or_skip
from tests.support.networks import vault_env
from tests.support.openbao import openbao_server
from tests.support.vault_injector import Injector, vault_injector

pytestmark = pytest.mark.fabric

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TWO_ORGS = EXAMPLES / "two-orgs.yaml"
RELEASE = "2.5.16"
ORG_NAMESPACES = ("supplychain-org1", "supplychain-org2", "supplychain-ordererorg")
AGENT_INIT = "vault-agent-init"


@dataclass
class Deployed:
    cluster: NodeCluster
    loaded: topology.LoadedTopology
    kube: KubeOptions
    injector: Injector
    first_up: Any
    seconds: float


@pytest.fixture(scope="module")
def deployed(
    kube_node_cluster: NodeCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    fabric_install_or_skip(RELEASE)
    cluster = kube_node_cluster
    busybox = cluster.binaries.busybox
    for image in oci.fabric_images(RELEASE, busybox=busybox):
        cluster.import_image(image)
    cluster.import_image(kube_images.probe_image(busybox=busybox, ref=DEFAULT_IMAGE))
    home = tmp_path_factory.mktemp("baas-home-vault")
    with (
        openbao_server(host=NODE_IP) as bao,
        vault_injector(cluster, vault_addr=bao.addr) as injector,
        vault_env(bao),
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setenv("BAAS_HOME", str(home))
        loaded = topology.load(TWO_ORGS)
        kube = KubeOptions(
            target=ClusterTarget(kubeconfig=cluster.kubeconfig_path),
            secrets="vault",
            timeout=600.0,
        )
        start = time.monotonic()
        try:
            result = services.up(loaded, target="kubernetes", kube=kube).value
            seconds = time.monotonic() - start
            yield Deployed(cluster, loaded, kube, injector, result, seconds)
        finally:
            services.down(loaded, target="kubernetes", kube=kube, purge=True)


def test_up_brings_the_pods_ready_with_injected_agents(deployed: Deployed) -> None:
    done = deployed.first_up.to_dict()
    assert done["workloads"] and all(w["ready"] for w in done["workloads"]), done["workloads"]
    assert any(c["action"] == "committed" and c["target"] == "basic" for c in done["network"])
    api = deployed.cluster.api_client()
    try:
        core = client.CoreV1Api(api)
        nodes = [
            pod
            for ns in ORG_NAMESPACES
            for pod in core.list_namespaced_pod(ns).items
            if (pod.metadata.labels or {}).get("app.kubernetes.io/component") in ("peer", "orderer")
        ]
        assert len(nodes) >= 6, [p.metadata.name for p in nodes]
        for pod in nodes:
            inits = [c.name for c in pod.spec.init_containers or []]
            # agent-init-first: the agent renders the identity before anything else runs
            assert inits[:1] == [AGENT_INIT], (pod.metadata.name, inits)
            agent = pod.spec.init_containers[0]
            assert agent.image == deployed.injector.agent_ref
        for ns in ORG_NAMESPACES:
            keyed = core.list_namespaced_secret(ns, label_selector="baas.io/org").items
            assert keyed == [], [s.metadata.name for s in keyed]
    finally:
        api.close()


def test_the_agent_rendered_the_identity_into_the_crypto_dir(deployed: Deployed) -> None:
    listing = deployed.cluster.exec(
        "supplychain-org1",
        "peer0-0",
        ["sh", "-c", "cd /etc/hyperledger/crypto && ls msp/keystore tls && head -1 tls/server.crt"],
        container="peer",
    )
    assert listing.returncode == 0, listing.stderr
    assert "key.pem" in listing.stdout and "server.key" in listing.stdout, listing.stdout
    assert "-----BEGIN CERTIFICATE-----" in listing.stdout, listing.stdout


def test_smoke_is_green_on_the_cluster(deployed: Deployed) -> None:
    report = services.smoke(deployed.loaded, target="kubernetes", kube=deployed.kube).value
    by_name = {c.name: c for c in report.checks}
    failed = [f"{c.name}: {c.message}" for c in report.checks if c.status == "failed"]
    assert report.passed, failed
    for name in ("helm test org1", "helm test org2", "nodes healthy", "channel membership"):
        assert by_name[name].status == "passed", by_name[name]
    assert any(n.startswith("endorsement") and c.passed for n, c in by_name.items()), by_name
