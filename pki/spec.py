"""What the PKI is asked to issue: plain dataclasses, independent of the topology model.

``baas.plan`` turns a topology into these; ``pki`` never imports ``topology``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

NodeRole = Literal["peer", "orderer"]
IdentityRole = Literal["peer", "orderer", "admin", "client"]
KeyAlgorithm = Literal["P-256", "P-384", "Ed25519"]


@dataclass(frozen=True)
class NodeSpec:
    """One peer or orderer of an organisation.

    ``name`` is the node's full name (``peer0.org1.example.com``), used as the certificate CN and
    the folder name; ``sans`` lists every extra DNS name or IP address its TLS certificate must
    cover (short name, Kubernetes service names, ``localhost``, ``127.0.0.1``).
    """

    name: str
    short_name: str
    role: NodeRole
    sans: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrgSpec:
    """One organisation: its CAs issue every identity listed here.

    ``domain`` is the organisation domain (``org1.example.com``); ``users`` are the client user
    ids (``alice`` → ``alice@org1.example.com``). An admin (``Admin@<domain>``) is always issued.
    ``has_peers`` decides the cryptogen folder: ``peerOrganizations`` when the org runs peers,
    ``ordererOrganizations`` when it runs only orderers.
    """

    name: str
    msp_id: str
    domain: str
    nodes: tuple[NodeSpec, ...] = ()
    users: tuple[str, ...] = ()

    @property
    def has_peers(self) -> bool:
        return any(n.role == "peer" for n in self.nodes)


@dataclass(frozen=True)
class PKIOptions:
    """Key algorithm and validity (days) for a network's material."""

    key_algorithm: KeyAlgorithm = "P-256"
    ca_validity_days: int = 3650
    leaf_validity_days: int = 365
    extra: dict[str, str] = field(default_factory=dict)
