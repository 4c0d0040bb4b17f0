"""Channels, channel config and chaincode on Kubernetes: the shared ensures of
:mod:`baas.network.converge`, run from this machine through the admin route
(:mod:`baas.runtimes.kubernetes.admin_route`) once the nodes' pods are ready.

What Fabric is *told* (configtx, chaincode packages' connection.json) uses the in-cluster
Service names of :class:`~baas.runtimes.kubernetes.addresses.KubernetesAddresses`; what baas
*dials* goes through port-forwards. configtxgen runs here, from the Fabric binaries found as
for the local runtime (``baas fabric install``); genesis blocks and config digests are kept
under ``~/.baas/networks/<network>/kubernetes/``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baas.errors import OperationError
from baas.fabric.binaries import FabricInstall
from baas.home import network_dir
from baas.network import chaincode as chaincode_ensures
from baas.network import configtx, converge, packaging
from baas.network.access import NetworkAccess
from baas.network.changes import Change, Report
from baas.network.crypto import CryptoTree
from baas.nodeconfig import KUBERNETES
from baas.plan import NodePlan, Plan
from baas.runtimes.kubernetes.addresses import DEFAULT_CLUSTER_DOMAIN, KubernetesAddresses
from baas.runtimes.kubernetes.admin_route import node_pod, open_access

RESTART_TIMEOUT = 300.0


def state_dir(plan: Plan) -> Path:
    """Where the Kubernetes target keeps genesis blocks and config digests of ``plan``."""
    return network_dir(plan.network) / "kubernetes"


def probe_marker(plan: Plan) -> Path:
    """Present once ``baas smoke`` deployed its probe on the cluster: ``up`` then keeps it."""
    return state_dir(plan) / "probe-deployed"


def configtx_yaml(plan: Plan, crypto: CryptoTree, *, cluster_domain: str) -> str:
    """configtx.yaml for ``plan`` on the cluster: Service addresses, PKI-tree file paths, the
    Kubernetes channel defaults of :data:`baas.nodeconfig.KUBERNETES`."""
    tunables = KUBERNETES
    return configtx.configtx_yaml(
        plan,
        addresses=KubernetesAddresses(cluster_domain=cluster_domain),
        files=converge.TreeConfigtxFiles(plan, crypto),
        batch_timeout=tunables.batch_timeout,
        raft=configtx.RaftOptions(
            tick_interval=tunables.raft_tick_interval,
            election_tick=tunables.raft_election_tick,
            heartbeat_tick=tunables.raft_heartbeat_tick,
        ),
    )


def packages(
    plan: Plan, *, cluster_domain: str
) -> dict[tuple[str, str], chaincode_ensures.Package]:
    """Each serving organisation's package of each chaincode, dialling its in-cluster server
    (the package IDs the chart's chaincode servers announce, see ``values.py``)."""
    addresses = KubernetesAddresses(cluster_domain=cluster_domain)
    found: dict[tuple[str, str], chaincode_ensures.Package] = {}
    for org in plan.orgs:
        for cc in packaging.served_chaincodes(plan, org):
            pkg = packaging.org_package(org, cc, addresses=addresses)
            found[(org.name, cc.name)] = chaincode_ensures.Package(pkg.data, pkg.package_id)
    return found


@dataclass(frozen=True)
class PodRestarter:
    """Restarts a node by deleting its pod (its StatefulSet makes a new one, which reads the
    current Secrets) and waits until the new pod is Ready."""

    api: Any
    timeout: float = RESTART_TIMEOUT

    def __call__(self, node: NodePlan) -> None:
        from kubernetes import client

        core = client.CoreV1Api(self.api)
        name = node_pod(node)
        old = core.read_namespaced_pod(name, node.namespace).metadata.uid
        core.delete_namespaced_pod(name, node.namespace)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                pod = core.read_namespaced_pod(name, node.namespace)
            except client.ApiException as exc:
                if exc.status != 404:
                    raise
            else:
                if pod.metadata.uid != old and _ready(pod):
                    return
            time.sleep(1.0)
        raise OperationError(
            f"{node.fqdn}: its pod {node.namespace}/{name} is not Ready {self.timeout:.0f}s "
            "after its restart",
            hint=f"kubectl -n {node.namespace} describe pod {name}; "
            f"kubectl -n {node.namespace} logs {name}",
        )


def _ready(pod: Any) -> bool:
    conditions = (pod.status.conditions or []) if pod.status else []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def ensure_network(
    api: Any,
    plan: Plan,
    crypto: CryptoTree,
    *,
    install: FabricInstall,
    report: Report,
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN,
    timings: dict[str, float] | None = None,
    signers: frozenset[str] | None = None,
) -> list[Change]:
    """Every channel created, joined and configured, and every chaincode defined, on the
    cluster of ``api`` (whose node pods must be ready). Returns what changed; ``timings``
    gets the seconds of the ``channel`` and ``chaincode`` steps; ``signers`` as in
    :class:`~baas.network.access.NetworkAccess`."""
    if not plan.channels:
        return []
    inputs = converge.ChannelInputs(
        configtx_yaml(plan, crypto, cluster_domain=cluster_domain),
        install.configtxgen,
        state_dir(plan),
    )
    with open_access(api, plan, crypto, signers=signers) as access:
        start = time.monotonic()
        changes = converge.ensure_channels(access, inputs, restart=PodRestarter(api), report=report)
        middle = time.monotonic()
        changes += converge.ensure_chaincodes(
            access, packages(plan, cluster_domain=cluster_domain), report=report
        )
        if timings is not None:
            timings["channel"] = middle - start
            timings["chaincode"] = time.monotonic() - middle
    return changes


def pending_changes(
    access: NetworkAccess, plan: Plan, crypto: CryptoTree, *, install: FabricInstall
) -> list[str]:
    """Each channel's pending config changes, field by field (read-only)."""
    text = configtx_yaml(plan, crypto, cluster_domain=DEFAULT_CLUSTER_DOMAIN)
    return converge.pending_changes(access, configtx_yaml=text, configtxgen=install.configtxgen)
