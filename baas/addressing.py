"""Where a node can be reached: the one thing the two runtimes configure differently.

The plan names nodes; a runtime decides their addresses. On Kubernetes every node listens on
the fixed container ports of :data:`baas.plan.PORTS` and is dialled through its Service's DNS
name; the local runtime gives every node its own ports on ``127.0.0.1``. Everything that writes
an address into Fabric's configuration (node settings, configtx, chaincode packages) or dials a
node (the admin client) takes an :class:`Addresses` and never builds a host name itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from baas.plan import ChaincodePlan, NodePlan, OrgPlan


@dataclass(frozen=True, order=True)
class Endpoint:
    """``host:port``. ``host`` is a DNS name or an IP address that the node's TLS certificate
    covers (every node certificate names ``localhost``, ``127.0.0.1`` and its Service names)."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class Addresses(Protocol):
    """Addresses of every listener of every node of one network.

    ``listen_host`` is the interface nodes bind (``0.0.0.0`` in a pod, ``127.0.0.1`` locally);
    a listener binds ``listen_host`` and the port of the endpoint that others dial.
    """

    @property
    def listen_host(self) -> str: ...

    def peer(self, node: NodePlan) -> Endpoint:
        """A peer's gRPC endpoint: endorsement, gossip, Gateway, deliver, admin."""
        ...

    def peer_chaincode(self, node: NodePlan) -> Endpoint:
        """A peer's chaincode listener (unused by chaincode as a service, but Fabric binds it)."""
        ...

    def orderer(self, node: NodePlan) -> Endpoint:
        """An orderer's broadcast and deliver endpoint (what ``OrdererEndpoints`` lists)."""
        ...

    def cluster(self, node: NodePlan) -> Endpoint:
        """An orderer's cluster (consenter-to-consenter) endpoint."""
        ...

    def admin(self, node: NodePlan) -> Endpoint:
        """An orderer's channel participation API (HTTPS, mutual TLS)."""
        ...

    def operations(self, node: NodePlan) -> Endpoint:
        """A node's operations endpoint: ``/healthz``, ``/metrics`` (plain HTTP)."""
        ...

    def chaincode(self, org: OrgPlan, chaincode: ChaincodePlan) -> Endpoint:
        """Where ``org``'s server of ``chaincode`` listens (what its package's connection.json
        dials)."""
        ...
