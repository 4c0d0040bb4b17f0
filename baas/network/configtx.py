"""``configtx.yaml`` for configtxgen, generated from the plan: one profile per channel.

Modelled on fabric-samples ``test-network/configtx/configtx.yaml`` (etcdraft) and
``test-network/bft-config/configtx.yaml`` (BFT, Fabric 3.x); see fabric.md §3.1. Target-neutral:
where nodes are reached comes from an :class:`baas.addressing.Addresses`, where configtxgen
finds the certificates from a :class:`ConfigtxFiles` (the Kubernetes toolbox and the local
runtime each give their own).

* ``Organizations``: every organisation with ``Name`` = ``ID`` = its MSP ID, ``MSPDir`` =
  :meth:`ConfigtxFiles.org_msp_dir`, the test-network signature policies,
  ``OrdererEndpoints`` (:meth:`~baas.addressing.Addresses.orderer`) when it runs orderers and
  ``AnchorPeers`` (:meth:`~baas.addressing.Addresses.peer`) when it runs peers. An
  organisation running both also counts its orderers as Readers and Writers (the orderers sign
  blocks, and ``BlockValidation`` is "ANY Writers").
* Channel capability ``V2_0`` (etcdraft) or ``V3_0`` (BFT, which requires it, and Ed25519
  keys, whose certificates channel MSPs accept only under it); Orderer ``V2_0``;
  Application ``V2_5``. No global ``Orderer.Addresses`` (deprecated; refused with ``V3_0``).
* etcdraft ``Consenters`` and BFT ``ConsenterMapping`` use each orderer's cluster endpoint
  (:meth:`~baas.addressing.Addresses.cluster`, a listener separate from the client one) with the
  node's TLS server certificate as both server and client certificate.
* ``BatchTimeout`` is 2s unless the caller passes another; etcdraft ``Options`` are written
  only when the caller passes :class:`RaftOptions` (configtxgen's defaults otherwise: tick
  500ms, election 10 ticks, heartbeat 1 tick).
* Application policies include ``LifecycleEndorsement`` and ``Endorsement`` =
  ``MAJORITY Endorsement``; chaincodes without an explicit policy use the latter.

Profiles are written fully expanded (no YAML anchors or merge keys), so the file can be read by
any YAML parser; configtxgen only reads ``Profiles.<name>``, the top-level sections are there
for ``configtxgen -printOrg`` and for people. Pure: same plan, addresses, files and tunables,
same text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from baas.addressing import Addresses
from baas.errors import UsageError
from baas.plan import ChannelPlan, NodePlan, OrgPlan, Plan

BATCH_TIMEOUT = "2s"
BATCH_SIZE: dict[str, Any] = {
    "MaxMessageCount": 10,
    "AbsoluteMaxBytes": "99 MB",
    "PreferredMaxBytes": "512 KB",
}
SMARTBFT_OPTIONS: dict[str, Any] = {
    "RequestBatchMaxCount": 100,
    "RequestBatchMaxInterval": "50ms",
    "RequestForwardTimeout": "2s",
    "RequestComplainTimeout": "20s",
    "RequestAutoRemoveTimeout": "3m0s",
    "ViewChangeResendInterval": "5s",
    "ViewChangeTimeout": "20s",
    "LeaderHeartbeatTimeout": "1m0s",
    "CollectTimeout": "1s",
    "RequestBatchMaxBytes": 10485760,
    "IncomingMessageBufferSize": 200,
    "RequestPoolSize": 100000,
    "LeaderHeartbeatCount": 10,
}
"""fabric-samples test-network/bft-config values."""

_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
"""A positive Go ``time.Duration`` as configtxgen parses it (``2s``, ``500ms``, ``1m30s``)."""


class ConfigtxFiles(Protocol):
    """Where configtxgen finds an organisation's verifying MSP and an orderer's certificates:
    paths as the process running configtxgen sees them (absolute, or relative to its working
    directory). Each runtime gives its own (the Kubernetes toolbox mounts them from a Secret)."""

    def org_msp_dir(self, org: OrgPlan) -> str:
        """The verifying MSP folder of ``org`` (``MSPDir``)."""
        ...

    def orderer_tls_cert(self, node: NodePlan) -> str:
        """Orderer ``node``'s TLS server certificate (consenter ``Client/ServerTLSCert``)."""
        ...

    def orderer_sign_cert(self, node: NodePlan) -> str:
        """Orderer ``node``'s signing certificate (BFT ``ConsenterMapping[].Identity``)."""
        ...


def _check_duration(value: str, what: str) -> None:
    if not _DURATION.match(value) or not any(c in "123456789" for c in value):
        raise UsageError(
            f"{what} {value!r} is not a positive duration",
            hint="write it as Go does: 2s, 500ms, 1m30s",
        )


@dataclass(frozen=True)
class RaftOptions:
    """etcdraft ``Options`` a caller may set (configtxgen's defaults when omitted altogether).

    Raises :class:`UsageError` for a tick interval that is not a positive Go duration, a tick
    count below 1, or an election tick not above the heartbeat tick (etcd/raft's rule).
    """

    tick_interval: str = "500ms"
    election_tick: int = 10
    heartbeat_tick: int = 1

    def __post_init__(self) -> None:
        _check_duration(self.tick_interval, "raft TickInterval")
        if self.heartbeat_tick < 1 or self.election_tick <= self.heartbeat_tick:
            raise UsageError(
                f"raft ElectionTick {self.election_tick} and HeartbeatTick "
                f"{self.heartbeat_tick} do not fit",
                hint="HeartbeatTick must be at least 1 and ElectionTick larger than it "
                "(Fabric's defaults: 10 and 1)",
            )

    def to_configtx(self) -> dict[str, Any]:
        return {
            "TickInterval": self.tick_interval,
            "ElectionTick": self.election_tick,
            "HeartbeatTick": self.heartbeat_tick,
        }


def _signature(rule: str) -> dict[str, str]:
    return {"Type": "Signature", "Rule": rule}


def _implicit(rule: str) -> dict[str, str]:
    return {"Type": "ImplicitMeta", "Rule": rule}


def _or(msp_id: str, *roles: str) -> str:
    return "OR(" + ", ".join(f"'{msp_id}.{role}'" for role in roles) + ")"


def org_policies(org: OrgPlan) -> dict[str, dict[str, str]]:
    """Readers/Writers/Admins (+ Endorsement for peer organisations) as in test-network.

    Orderer-only organisations: ``member`` reads and writes. Peer organisations: readers are
    admin/peer/client, writers admin/client; an organisation that also runs orderers adds
    ``orderer`` to both (its orderers must satisfy "ANY Writers" to sign blocks).
    """
    msp = org.msp_id
    if not org.peers:
        return {
            "Readers": _signature(_or(msp, "member")),
            "Writers": _signature(_or(msp, "member")),
            "Admins": _signature(_or(msp, "admin")),
        }
    extra = ("orderer",) if org.orderers else ()
    return {
        "Readers": _signature(_or(msp, "admin", "peer", "client", *extra)),
        "Writers": _signature(_or(msp, "admin", "client", *extra)),
        "Admins": _signature(_or(msp, "admin")),
        "Endorsement": _signature(_or(msp, "peer")),
    }


def organization(org: OrgPlan, *, addresses: Addresses, files: ConfigtxFiles) -> dict[str, Any]:
    """One ``Organizations`` entry (see the module docstring)."""
    entry: dict[str, Any] = {
        "Name": org.msp_id,
        "ID": org.msp_id,
        "MSPDir": files.org_msp_dir(org),
        "Policies": org_policies(org),
    }
    if org.orderers:
        entry["OrdererEndpoints"] = [str(addresses.orderer(o)) for o in org.orderers]
    if org.peers:
        entry["AnchorPeers"] = [
            {"Host": endpoint.host, "Port": endpoint.port}
            for endpoint in (addresses.peer(p) for p in org.anchor_peers)
        ]
    return entry


def channel_capabilities(plan: Plan) -> dict[str, bool]:
    """``V3_0`` for BFT and for Ed25519 identities (Fabric 3.x only), ``V2_0`` otherwise.

    Channel MSPs only accept Ed25519 certificates at MSP version 3.0, which Fabric 3 selects
    from the channel capability ``V3_0`` (``common/capabilities/channel.go MSPVersion``); under
    ``V2_0`` every Ed25519 identity (nodes, admins) would be refused on the channel.
    """
    if plan.consensus == "BFT" or plan.pki.key_algorithm == "Ed25519":
        return {"V3_0": True}
    return {"V2_0": True}


ORDERER_CAPABILITIES: dict[str, bool] = {"V2_0": True}
APPLICATION_CAPABILITIES: dict[str, bool] = {"V2_5": True}

CHANNEL_POLICIES: dict[str, dict[str, str]] = {
    "Readers": _implicit("ANY Readers"),
    "Writers": _implicit("ANY Writers"),
    "Admins": _implicit("MAJORITY Admins"),
}
ORDERER_POLICIES: dict[str, dict[str, str]] = {
    **CHANNEL_POLICIES,
    "BlockValidation": _implicit("ANY Writers"),
}
APPLICATION_POLICIES: dict[str, dict[str, str]] = {
    **CHANNEL_POLICIES,
    "LifecycleEndorsement": _implicit("MAJORITY Endorsement"),
    "Endorsement": _implicit("MAJORITY Endorsement"),
}


def profile_name(channel: ChannelPlan) -> str:
    """The configtxgen profile of ``channel``: its name (``configtxgen -profile <channel>``)."""
    return channel.name


def consenters(plan: Plan, channel: ChannelPlan) -> list[NodePlan]:
    """The orderers of ``channel``'s orderer organisations, in plan order."""
    return [o for name in channel.orderer_orgs for o in plan.org(name).orderers]


@dataclass(frozen=True)
class _Sources:
    """What configtx reads besides the plan (one argument for the private builders)."""

    addresses: Addresses
    files: ConfigtxFiles
    batch_timeout: str
    raft: RaftOptions | None


def _raft_consenter(node: NodePlan, src: _Sources) -> dict[str, Any]:
    cert = src.files.orderer_tls_cert(node)
    endpoint = src.addresses.cluster(node)
    return {
        "Host": endpoint.host,
        "Port": endpoint.port,
        "ClientTLSCert": cert,
        "ServerTLSCert": cert,
    }


def _bft_consenter(plan: Plan, index: int, node: NodePlan, src: _Sources) -> dict[str, Any]:
    cert = src.files.orderer_tls_cert(node)
    endpoint = src.addresses.cluster(node)
    return {
        "ID": index,
        "Host": endpoint.host,
        "Port": endpoint.port,
        "MSPID": plan.org(node.org).msp_id,
        "Identity": src.files.orderer_sign_cert(node),
        "ClientTLSCert": cert,
        "ServerTLSCert": cert,
    }


def _orderer_section(
    plan: Plan, channel: ChannelPlan, orgs: Mapping[str, dict[str, Any]], src: _Sources
) -> dict[str, Any]:
    nodes = consenters(plan, channel)
    section: dict[str, Any] = {
        "OrdererType": "BFT" if plan.consensus == "BFT" else "etcdraft",
        "BatchTimeout": src.batch_timeout,
        "BatchSize": dict(BATCH_SIZE),
        "Organizations": [orgs[name] for name in channel.orderer_orgs],
        "Policies": ORDERER_POLICIES,
        "Capabilities": ORDERER_CAPABILITIES,
    }
    if plan.consensus == "BFT":
        section["SmartBFT"] = dict(SMARTBFT_OPTIONS)
        section["ConsenterMapping"] = [
            _bft_consenter(plan, i, node, src) for i, node in enumerate(nodes, 1)
        ]
    else:
        raft: dict[str, Any] = {"Consenters": [_raft_consenter(n, src) for n in nodes]}
        if src.raft is not None:
            raft["Options"] = src.raft.to_configtx()
        section["EtcdRaft"] = raft
    return section


def _check(plan: Plan, batch_timeout: str) -> None:
    _check_duration(batch_timeout, "BatchTimeout")
    if plan.consensus == "BFT" and plan.fabric_version.startswith("2."):
        raise UsageError(
            f"BFT ordering needs Fabric 3.x, but the network uses Fabric {plan.fabric_version}",
            hint="set spec.fabric.version to 3.1, or use consensus etcdraft",
        )
    if plan.pki.key_algorithm == "Ed25519" and plan.fabric_version.startswith("2."):
        raise UsageError(
            f"Ed25519 identities need Fabric 3.x, but the network uses Fabric "
            f"{plan.fabric_version}",
            hint="set spec.fabric.version to 3.1, or use keyAlgorithm P-256",
        )
    if plan.consensus == "BFT" and plan.pki.key_algorithm == "Ed25519":
        raise UsageError(
            f"BFT consenters cannot use Ed25519 identities: Fabric {plan.fabric_release} refuses "
            "them (failed unmarshaling ECDSA signature)",
            hint="set spec.pki.keyAlgorithm to P-256 or P-384, or use consensus etcdraft",
        )
    for channel in plan.channels:
        if not consenters(plan, channel):
            raise UsageError(
                f"channel {channel.name!r} has no orderer to run it",
                hint="list an organisation that runs orderers in the channel's `orderers`",
            )
        if not channel.members:
            raise UsageError(f"channel {channel.name!r} has no member organisation")


def configtx(
    plan: Plan,
    *,
    addresses: Addresses,
    files: ConfigtxFiles,
    batch_timeout: str = BATCH_TIMEOUT,
    raft: RaftOptions | None = None,
) -> dict[str, Any]:
    """The configtx document of ``plan`` as plain data (see the module docstring).

    ``addresses`` give the orderer endpoints, anchor peers and consenter endpoints, ``files``
    the certificate paths; ``batch_timeout`` is the orderer's ``BatchTimeout``; ``raft`` the
    etcdraft ``Options`` (omitted when ``None``; ignored under BFT, which has its own).

    Raises :class:`UsageError` for BFT or Ed25519 on Fabric 2.x, for BFT with Ed25519, for a
    channel without orderers or members (the topology validation normally refuses these first)
    and for a ``batch_timeout`` that is not a positive Go duration.
    """
    _check(plan, batch_timeout)
    src = _Sources(addresses=addresses, files=files, batch_timeout=batch_timeout, raft=raft)
    orgs = {o.name: organization(o, addresses=addresses, files=files) for o in plan.orgs}
    profiles: dict[str, Any] = {}
    for channel in plan.channels:
        profiles[profile_name(channel)] = {
            "Policies": CHANNEL_POLICIES,
            "Capabilities": channel_capabilities(plan),
            "Orderer": _orderer_section(plan, channel, orgs, src),
            "Application": {
                "Organizations": [orgs[name] for name in channel.members],
                "Policies": APPLICATION_POLICIES,
                "Capabilities": APPLICATION_CAPABILITIES,
            },
        }
    return {
        "Organizations": list(orgs.values()),
        "Capabilities": {
            "Channel": channel_capabilities(plan),
            "Orderer": ORDERER_CAPABILITIES,
            "Application": APPLICATION_CAPABILITIES,
        },
        "Profiles": profiles,
    }


class _NoAliases(yaml.SafeDumper):
    """Writes shared objects in full instead of as ``&id001`` anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


HEADER = (
    "# configtx.yaml generated by baas from the topology; do not edit.\n"
    "# configtxgen -configPath <dir> -profile <channel> -channelID <channel> -outputBlock <f>\n"
)


def configtx_yaml(
    plan: Plan,
    *,
    addresses: Addresses,
    files: ConfigtxFiles,
    batch_timeout: str = BATCH_TIMEOUT,
    raft: RaftOptions | None = None,
) -> str:
    """:func:`configtx` as YAML text (keys in a stable order, no anchors), with a header.
    Same arguments and errors as :func:`configtx`."""
    body = yaml.dump(
        configtx(plan, addresses=addresses, files=files, batch_timeout=batch_timeout, raft=raft),
        Dumper=_NoAliases,
        sort_keys=False,
        default_flow_style=False,
        width=1000,
    )
    return HEADER + body
