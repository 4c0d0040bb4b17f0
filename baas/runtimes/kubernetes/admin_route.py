"""The admin route on Kubernetes: a :class:`~baas.network.access.NetworkAccess` whose node
addresses are port-forwards (:mod:`baas.runtimes.kubernetes.portforward`) to the nodes' pods.

What is *written into Fabric's configuration* (configtx, chaincode packages, node settings)
keeps the in-cluster Service names of
:class:`~baas.runtimes.kubernetes.addresses.KubernetesAddresses`; only what the admin client
*dials* — peers, orderers, orderer admin APIs, operations endpoints — goes through
:class:`ForwardedAddresses`. A node's pod is ``<node name>-0`` (its one-replica StatefulSet)
in its organisation's namespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from baas.addressing import Endpoint
from baas.errors import BaasError
from baas.network.access import NetworkAccess
from baas.network.crypto import CryptoTree
from baas.plan import PORTS, ChaincodePlan, NodePlan, OrgPlan, Plan
from baas.runtimes.kubernetes.addresses import KubernetesAddresses
from baas.runtimes.kubernetes.portforward import PodPort, PortForwarder


def node_pod(node: NodePlan) -> str:
    """The pod of ``node``'s one-replica StatefulSet (``charts/fabric`` names it by node)."""
    return f"{node.name}-0"


@dataclass(frozen=True)
class ForwardedAddresses:
    """:class:`baas.addressing.Addresses` for dialling a Kubernetes network from this machine.

    Listeners the admin client dials map to local port-forwards (opened on first use); the
    others (chaincode servers, cluster and chaincode listeners, which only nodes dial) are the
    in-cluster addresses of ``in_cluster``."""

    forwarder: PortForwarder
    in_cluster: KubernetesAddresses

    @property
    def listen_host(self) -> str:
        return self.in_cluster.listen_host

    def _forward(self, node: NodePlan, port: int) -> Endpoint:
        return self.forwarder.endpoint(PodPort(node.namespace, node_pod(node), port))

    def peer(self, node: NodePlan) -> Endpoint:
        return self._forward(node, PORTS.peer)

    def peer_chaincode(self, node: NodePlan) -> Endpoint:
        return self.in_cluster.peer_chaincode(node)

    def orderer(self, node: NodePlan) -> Endpoint:
        return self._forward(node, PORTS.orderer)

    def cluster(self, node: NodePlan) -> Endpoint:
        return self.in_cluster.cluster(node)

    def admin(self, node: NodePlan) -> Endpoint:
        return self._forward(node, PORTS.orderer_admin)

    def operations(self, node: NodePlan) -> Endpoint:
        return self._forward(node, PORTS.operations)

    def chaincode(self, org: OrgPlan, chaincode: ChaincodePlan) -> Endpoint:
        return self.in_cluster.chaincode(org, chaincode)


@contextmanager
def open_access(
    api: Any, plan: Plan, crypto: CryptoTree, *, signers: frozenset[str] | None = None
) -> Iterator[NetworkAccess]:
    """A :class:`NetworkAccess` (allowed ``signers``) to ``plan``'s network on the cluster of
    ``api``, through port-forwards that are closed on exit. A baas error raised inside gets
    the last refused forward (the API server's reason: pod not found, forbidden) in its
    hint."""
    with PortForwarder(api) as forwarder:
        addresses = ForwardedAddresses(forwarder, KubernetesAddresses())
        try:
            with NetworkAccess(plan, crypto, addresses, signers=signers) as access:
                yield access
        except BaasError as exc:
            # "connection reset" on a local port says nothing: add why the forward failed
            if forwarder.last_error and forwarder.last_error not in exc.hint:
                exc.hint = (
                    f"{forwarder.last_error}; {exc.hint}" if exc.hint else (forwarder.last_error)
                )
            raise
