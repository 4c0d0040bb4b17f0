"""What the channels hold of chaincode, read through the admin client (``baas chaincode
list``): per channel every committed definition — version, sequence, endorsement policy, Init —
with each member organisation's approved package for that sequence, and per peer the packages
installed on it. Target-neutral and read-only: every runtime hands in its
:class:`~baas.network.access.NetworkAccess`.

Each query goes to the organisation's own peer with its own admin (a read signs nothing). A
node that does not answer is reported as such (``error``) rather than failing the whole list.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from baas.fabric import errors, lifecycle, policies
from baas.network.access import NetworkAccess
from baas.plan import ChannelPlan, NodePlan, OrgPlan


@dataclass(frozen=True)
class Approval:
    """An organisation's approval of a committed definition's sequence: the package it named
    (``""``: approved without a package; None: no approval)."""

    org: str
    msp_id: str
    package_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"org": self.org, "mspId": self.msp_id, "packageId": self.package_id}


@dataclass(frozen=True)
class Committed:
    """One committed definition on a channel. ``wanted``: the version the topology asks for
    (None: not in the topology, e.g. smoke's probe)."""

    channel: str
    name: str
    version: str
    sequence: int
    endorsement: str
    init_required: bool
    approvals: tuple[Approval, ...]
    wanted: str | None
    collections: tuple[dict[str, Any], ...] = ()
    """Its private data collections as the topology writes them
    (:func:`baas.fabric.policies.describe_collections`)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "name": self.name,
            "version": self.version,
            "sequence": self.sequence,
            "endorsement": self.endorsement,
            "initRequired": self.init_required,
            "wantedVersion": self.wanted,
            "approvals": [a.to_dict() for a in self.approvals],
            "collections": [dict(c) for c in self.collections],
        }


@dataclass(frozen=True)
class Installed:
    """The packages installed on one peer (package ID → label), or why it could not say."""

    peer: str
    org: str
    packages: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "peer": self.peer,
            "org": self.org,
            "packages": [{"packageId": k, "label": v} for k, v in sorted(self.packages.items())],
            "error": self.error,
        }


@dataclass(frozen=True)
class ChannelChaincodes:
    """A channel's committed definitions, or why they could not be read."""

    channel: str
    committed: tuple[Committed, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "committed": [c.to_dict() for c in self.committed],
            "error": self.error,
        }


@dataclass(frozen=True)
class Inventory:
    """Every channel's chaincode definitions and every peer's installed packages."""

    network: str
    channels: tuple[ChannelChaincodes, ...]
    peers: tuple[Installed, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "channels": [c.to_dict() for c in self.channels],
            "peers": [p.to_dict() for p in self.peers],
        }


def _members(access: NetworkAccess, channel: ChannelPlan) -> list[OrgPlan]:
    return [access.plan.org(name) for name in channel.members]


def _approvals(
    access: NetworkAccess, channel: ChannelPlan, definition: lifecycle.Definition
) -> tuple[Approval, ...]:
    found = []
    for org in _members(access, channel):
        package = lifecycle.approved_package(
            access.peer(org.anchor_peers[0]),
            access.admin(org),
            channel=channel.name,
            name=definition.name,
            sequence=definition.sequence,
        )
        found.append(Approval(org.name, org.msp_id, package))
    return tuple(found)


def _channel(access: NetworkAccess, channel: ChannelPlan) -> ChannelChaincodes:
    orgs = _members(access, channel)
    if not orgs:
        return ChannelChaincodes(channel.name, error="the channel has no member organisation")
    wanted = {cc.name: cc.version for cc in access.plan.chaincodes if cc.channel == channel.name}
    first = orgs[0]
    try:
        definitions = lifecycle.committed_all(
            access.peer(first.anchor_peers[0]), access.admin(first), channel=channel.name
        )
        committed = tuple(
            Committed(
                channel=channel.name,
                name=d.name,
                version=d.version,
                sequence=d.sequence,
                endorsement=policies.describe(d.validation_parameter),
                init_required=d.init_required,
                approvals=_approvals(access, channel, d),
                wanted=wanted.get(d.name),
                collections=tuple(policies.describe_collections(d.collections)),
            )
            for d in definitions
        )
    except errors.FabricError as exc:
        return ChannelChaincodes(channel.name, error=exc.message)
    return ChannelChaincodes(channel.name, committed)


def _installed(access: NetworkAccess, node: NodePlan) -> Installed:
    org = access.org_of(node)
    try:
        packages = lifecycle.installed(access.peer(node), access.admin(org))
    except errors.FabricError as exc:
        return Installed(node.fqdn, org.name, error=exc.message)
    return Installed(node.fqdn, org.name, packages)


def chaincodes(access: NetworkAccess) -> Inventory:
    """The network's chaincode as its channels and peers hold it (see the module docstring)."""
    plan = access.plan
    peers = [node for org in plan.orgs for node in org.peers]
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(peers) + len(plan.channels)))) as pool:
        channels = list(pool.map(lambda c: _channel(access, c), plan.channels))
        installed = list(pool.map(lambda n: _installed(access, n), peers))
    return Inventory(plan.network, tuple(channels), tuple(installed))
