"""Node addresses on Kubernetes: every node is dialled through its Service's DNS name.

:class:`KubernetesAddresses` implements :class:`baas.addressing.Addresses` for the chart
(``charts/fabric``): a node's Service ``<service>`` in its organisation's namespace is reached as
``<service>.<namespace>.svc.<cluster domain>`` (a name every node TLS certificate covers, see
:attr:`baas.plan.NodePlan.sans`), always on the fixed container ports of
:data:`baas.plan.PORTS`; pods bind ``0.0.0.0``. A chaincode server of an organisation is the
Service :func:`chaincode_service_name` in that organisation's namespace, port 9999.
"""

from __future__ import annotations

from dataclasses import dataclass

from baas.addressing import Endpoint
from baas.plan import PORTS, ChaincodePlan, NodePlan, OrgPlan
from baas.secrets.kubernetes import dns_label

DEFAULT_CLUSTER_DOMAIN = "cluster.local"
LISTEN_HOST = "0.0.0.0"


def chaincode_service_name(chaincode: str, channel: str) -> str:
    """Service (and Deployment) name of a chaincode server: ``cc-<chaincode>-<channel>`` as a
    DNS-1123 label; chaincode names with upper case or ``_`` and long names get a hash suffix
    so distinct pairs keep distinct names. Package connection.json files dial
    ``<this>.<namespace>.svc.<cluster domain>:9999``."""
    return dns_label(f"cc-{chaincode}-{channel}")


def service_host(namespace: str, service: str, cluster_domain: str) -> str:
    """In-cluster DNS name of a Service: ``<service>.<namespace>.svc.<cluster domain>``."""
    return f"{service}.{namespace}.svc.{cluster_domain}"


@dataclass(frozen=True)
class KubernetesAddresses:
    """:class:`baas.addressing.Addresses` of a network deployed by ``charts/fabric``.

    ``cluster_domain`` is the cluster's DNS suffix (``cluster.local`` unless the cluster was set
    up otherwise). Pure: no lookup, the names exist once the releases are installed.
    """

    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN

    @property
    def listen_host(self) -> str:
        return LISTEN_HOST

    def host(self, node: NodePlan) -> str:
        """The in-cluster DNS name of ``node``'s Service."""
        return service_host(node.namespace, node.service, self.cluster_domain)

    def _at(self, node: NodePlan, port: int) -> Endpoint:
        return Endpoint(self.host(node), port)

    def peer(self, node: NodePlan) -> Endpoint:
        return self._at(node, PORTS.peer)

    def peer_chaincode(self, node: NodePlan) -> Endpoint:
        return self._at(node, PORTS.peer_chaincode)

    def orderer(self, node: NodePlan) -> Endpoint:
        return self._at(node, PORTS.orderer)

    def cluster(self, node: NodePlan) -> Endpoint:
        """The chart's separate cluster listener (``ORDERER_GENERAL_CLUSTER_LISTENPORT``)."""
        return self._at(node, PORTS.orderer_cluster)

    def admin(self, node: NodePlan) -> Endpoint:
        return self._at(node, PORTS.orderer_admin)

    def operations(self, node: NodePlan) -> Endpoint:
        return self._at(node, PORTS.operations)

    def chaincode(self, org: OrgPlan, chaincode: ChaincodePlan) -> Endpoint:
        """``org``'s server of ``chaincode``: its ``cc-<chaincode>-<channel>`` Service in the
        organisation's namespace, port 9999."""
        service = chaincode_service_name(chaincode.name, chaincode.channel)
        return Endpoint(service_host(org.namespace, service, self.cluster_domain), PORTS.chaincode)
