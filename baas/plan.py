"""The plan: everything a topology turns into, computed once and shared by every step.

Pure and deterministic: the same topology gives the same plan. The PKI, secret stores and
runtimes read names, identities and memberships from here, never from the raw model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pki.spec import NodeSpec, OrgSpec, PKIOptions
from topology import names
from topology.model import Collection, Network

DEFAULT_ENDORSEMENT = "/Channel/Application/Endorsement"  # MAJORITY Endorsement


@dataclass(frozen=True)
class Ports:
    """Container ports every node listens on (the same in every pod; Services expose them)."""

    peer: int = 7051
    peer_chaincode: int = 7052
    orderer: int = 7050
    orderer_cluster: int = 7055
    orderer_admin: int = 7053
    operations: int = 9443
    chaincode: int = 9999


PORTS = Ports()


@dataclass(frozen=True)
class NodePlan:
    """One peer or orderer. ``service`` is its Kubernetes Service name inside ``namespace``."""

    org: str
    name: str
    fqdn: str
    role: Literal["peer", "orderer"]
    namespace: str
    service: str
    anchor: bool = False

    @property
    def sans(self) -> tuple[str, ...]:
        """Every address the node's TLS certificate must cover, each once (the short name and
        the Service name are usually the same)."""
        return tuple(
            dict.fromkeys(
                (
                    self.name,
                    *names.service_names(self.namespace, self.service),
                    "localhost",
                    "127.0.0.1",
                )
            )
        )


@dataclass(frozen=True)
class OrgPlan:
    name: str
    msp_id: str
    domain: str
    namespace: str
    peers: tuple[NodePlan, ...]
    orderers: tuple[NodePlan, ...]
    admin: str
    users: tuple[str, ...]

    @property
    def nodes(self) -> tuple[NodePlan, ...]:
        return self.peers + self.orderers

    @property
    def anchor_peers(self) -> tuple[NodePlan, ...]:
        """Declared anchors, else the first peer (empty for orderer-only organisations)."""
        declared = tuple(p for p in self.peers if p.anchor)
        return declared or self.peers[:1]

    @property
    def identities(self) -> tuple[str, ...]:
        """Every identity the org's CAs issue: nodes, admin, users."""
        return (*(n.fqdn for n in self.nodes), self.admin, *self.users)


@dataclass(frozen=True)
class ChannelPlan:
    name: str
    members: tuple[str, ...]
    orderer_orgs: tuple[str, ...]
    consenters: tuple[str, ...]


@dataclass(frozen=True)
class CollectionPlan:
    """One private data collection of a chaincode definition (the topology's
    :class:`topology.model.Collection`). ``endorsement``: a signature policy expression,
    ``endorsement_reference``: a channel policy path; at most one is set."""

    name: str
    policy: str
    required_peer_count: int = 0
    max_peer_count: int = 1
    block_to_live: int = 0
    member_only_read: bool = False
    member_only_write: bool = False
    endorsement: str | None = None
    endorsement_reference: str | None = None


def _collection(found: Collection) -> CollectionPlan:
    ep = found.endorsement_policy
    return CollectionPlan(
        name=found.name,
        policy=found.policy,
        required_peer_count=found.required_peer_count,
        max_peer_count=found.max_peer_count,
        block_to_live=found.block_to_live,
        member_only_read=found.member_only_read,
        member_only_write=found.member_only_write,
        endorsement=ep.signature_policy if ep else None,
        endorsement_reference=ep.channel_config_policy if ep else None,
    )


@dataclass(frozen=True)
class ChaincodePlan:
    name: str
    channel: str
    version: str
    path: str
    endorsement: str
    endorsement_is_default: bool
    init_required: bool
    image: str | None = None
    init_function: str | None = None
    """Called by Init when ``init_required`` (``None``: Init with empty arguments)."""
    approval: str = "auto"
    """``auto`` or ``manual`` (see :func:`baas.network.chaincode.ensure_chaincode`)."""
    collections: tuple[CollectionPlan, ...] = ()
    """The definition's private data collections, in the topology's order."""
    collections_file: str | None = None
    """A ``collections:`` path the topology was loaded without reading (no base folder): the
    plan cannot say its collections, and :func:`baas.network.chaincode.wanted` refuses it."""

    # No sequence here: :func:`baas.network.chaincode.decide` numbers definitions at run time
    # from the committed one, so an upgrade needs only a new version.

    @property
    def label(self) -> str:
        """Package label: ``<name>_<version>`` (Fabric's label rule)."""
        return f"{self.name}_{self.version}"


@dataclass(frozen=True)
class Plan:
    network: str
    fabric_version: str
    fabric_release: str
    consensus: str
    domain: str
    orgs: tuple[OrgPlan, ...]
    channels: tuple[ChannelPlan, ...]
    chaincodes: tuple[ChaincodePlan, ...]
    pki: PKIOptions = field(default_factory=PKIOptions)

    def org(self, name: str) -> OrgPlan:
        """The organisation ``name``; raises ``KeyError`` when absent."""
        for org in self.orgs:
            if org.name == name:
                return org
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("pki")
        data["pki"] = {
            "keyAlgorithm": self.pki.key_algorithm,
            "caValidityDays": self.pki.ca_validity_days,
            "leafValidityDays": self.pki.leaf_validity_days,
        }
        return data


def _node(
    network: Network, org: str, name: str, role: Literal["peer", "orderer"], anchor: bool = False
) -> NodePlan:
    return NodePlan(
        org=org,
        name=name,
        fqdn=names.node_name(network, org, name),
        role=role,
        namespace=names.namespace(network, org),
        service=name,
        anchor=anchor,
    )


def build(network: Network) -> Plan:
    """The plan for a validated network."""
    orgs = tuple(
        OrgPlan(
            name=o.name,
            msp_id=o.msp_id,
            domain=names.org_domain(network, o.name),
            namespace=names.namespace(network, o.name),
            peers=tuple(_node(network, o.name, p.name, "peer", p.anchor) for p in o.peers),
            orderers=tuple(_node(network, o.name, x.name, "orderer") for x in o.orderers),
            admin=names.admin_identity(network, o.name),
            users=tuple(names.user_identity(network, o.name, u) for u in o.users),
        )
        for o in network.spec.organizations
    )
    by_name = {o.name: o for o in orgs}
    channels = tuple(
        ChannelPlan(
            name=c.name,
            members=tuple(c.organizations),
            orderer_orgs=tuple(network.channel_orderer_orgs(c)),
            consenters=tuple(
                n.fqdn for org in network.channel_orderer_orgs(c) for n in by_name[org].orderers
            ),
        )
        for c in network.spec.channels
    )
    chaincodes = tuple(
        ChaincodePlan(
            name=cc.name,
            channel=cc.channel,
            version=cc.version,
            path=cc.path,
            endorsement=cc.endorsement or DEFAULT_ENDORSEMENT,
            endorsement_is_default=cc.endorsement is None,
            init_required=cc.init_required,
            image=cc.image,
            init_function=cc.init_function,
            approval=cc.approval,
            collections=tuple(
                _collection(c) for c in (cc.collections if isinstance(cc.collections, list) else [])
            ),
            collections_file=cc.collections if isinstance(cc.collections, str) else None,
        )
        for cc in network.spec.chaincodes
    )
    pki = network.spec.pki
    return Plan(
        network=network.metadata.name,
        fabric_version=network.spec.fabric.version,
        fabric_release=network.spec.fabric.pinned,
        consensus=network.spec.consensus,
        domain=network.spec.domain,
        orgs=orgs,
        channels=channels,
        chaincodes=chaincodes,
        pki=PKIOptions(
            key_algorithm=pki.key_algorithm,
            ca_validity_days=pki.ca_validity_days,
            leaf_validity_days=pki.leaf_validity_days,
        ),
    )


def pki_org_specs(network: Network) -> list[OrgSpec]:
    """What the PKI must issue for ``network``: one :class:`OrgSpec` per organisation, TLS SANs
    included (short name, Kubernetes service names, localhost)."""
    return pki_org_specs_from_plan(build(network))


def pki_org_specs_from_plan(plan: Plan) -> list[OrgSpec]:
    """:func:`pki_org_specs` for an already built plan."""
    return [
        OrgSpec(
            name=org.name,
            msp_id=org.msp_id,
            domain=org.domain,
            nodes=tuple(
                NodeSpec(name=n.fqdn, short_name=n.name, role=n.role, sans=n.sans)
                for n in org.nodes
            ),
            users=tuple(u.split("@", 1)[0] for u in org.users),
        )
        for org in plan.orgs
    ]


def pki_options(network: Network) -> PKIOptions:
    """Key algorithm and validity requested by the topology (``spec.pki``)."""
    return build(network).pki
