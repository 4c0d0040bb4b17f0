"""``configtx.yaml`` for configtxgen, generated from the plan: one profile per channel.

Modelled on fabric-samples ``test-network/configtx/configtx.yaml`` (etcdraft) and
``test-network/bft-config/configtx.yaml`` (BFT, Fabric 3.x); see fabric.md §3.1.

* ``Organizations``: every organisation with ``Name`` = ``ID`` = its MSP ID, ``MSPDir`` inside
  the toolbox pod's crypto tree (:mod:`baas.channels.layout`), the test-network signature
  policies, ``OrdererEndpoints`` (``<svc>.<ns>.svc.<cluster domain>:7050``) when it runs
  orderers and ``AnchorPeers`` (port 7051) when it runs peers. An organisation running both
  also counts its orderers as Readers and Writers (the orderers sign blocks, and
  ``BlockValidation`` is "ANY Writers").
* Channel capability ``V2_0`` (etcdraft) or ``V3_0`` (BFT, which requires it, and Ed25519
  keys, whose certificates channel MSPs accept only under it); Orderer ``V2_0``;
  Application ``V2_5``. No global ``Orderer.Addresses`` (deprecated; refused with ``V3_0``).
* etcdraft ``Consenters`` and BFT ``ConsenterMapping`` use each orderer's Service name and the
  cluster port: charts/fabric runs a separate cluster listener (``ORDERER_GENERAL_CLUSTER_*``)
  on 7055 with the node's TLS server certificate as both server and client certificate.
* Application policies include ``LifecycleEndorsement`` and ``Endorsement`` =
  ``MAJORITY Endorsement``; chaincodes without an explicit policy use the latter.

Profiles are written fully expanded (no YAML anchors or merge keys), so the file can be read by
any YAML parser; configtxgen only reads ``Profiles.<name>``, the top-level sections are there
for ``configtxgen -printOrg`` and for people. Pure: same plan, same text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from baas.channels import layout
from baas.errors import UsageError
from baas.plan import PORTS, ChannelPlan, NodePlan, OrgPlan, Plan

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

CONSENTER_PORT = PORTS.orderer_cluster
"""The chart's separate cluster listener (ORDERER_GENERAL_CLUSTER_LISTENPORT)."""


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


def organization(org: OrgPlan, *, cluster_domain: str) -> dict[str, Any]:
    """One ``Organizations`` entry (see the module docstring)."""
    entry: dict[str, Any] = {
        "Name": org.msp_id,
        "ID": org.msp_id,
        "MSPDir": layout.in_crypto(layout.org_msp(org.name)),
        "Policies": org_policies(org),
    }
    if org.orderers:
        entry["OrdererEndpoints"] = [
            layout.address(layout.service_host(o, cluster_domain), PORTS.orderer)
            for o in org.orderers
        ]
    if org.peers:
        entry["AnchorPeers"] = [
            {"Host": layout.service_host(p, cluster_domain), "Port": PORTS.peer}
            for p in org.anchor_peers
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


def _raft_consenter(node: NodePlan, cluster_domain: str) -> dict[str, Any]:
    cert = layout.in_crypto(layout.orderer_tls_cert(node.org, node.name))
    return {
        "Host": layout.service_host(node, cluster_domain),
        "Port": CONSENTER_PORT,
        "ClientTLSCert": cert,
        "ServerTLSCert": cert,
    }


def _bft_consenter(plan: Plan, index: int, node: NodePlan, cluster_domain: str) -> dict[str, Any]:
    cert = layout.in_crypto(layout.orderer_tls_cert(node.org, node.name))
    return {
        "ID": index,
        "Host": layout.service_host(node, cluster_domain),
        "Port": CONSENTER_PORT,
        "MSPID": plan.org(node.org).msp_id,
        "Identity": layout.in_crypto(layout.orderer_sign_cert(node.org, node.name)),
        "ClientTLSCert": cert,
        "ServerTLSCert": cert,
    }


def _orderer_section(
    plan: Plan, channel: ChannelPlan, orgs: Mapping[str, dict[str, Any]], cluster_domain: str
) -> dict[str, Any]:
    nodes = consenters(plan, channel)
    section: dict[str, Any] = {
        "OrdererType": "BFT" if plan.consensus == "BFT" else "etcdraft",
        "BatchTimeout": BATCH_TIMEOUT,
        "BatchSize": dict(BATCH_SIZE),
        "Organizations": [orgs[name] for name in channel.orderer_orgs],
        "Policies": ORDERER_POLICIES,
        "Capabilities": ORDERER_CAPABILITIES,
    }
    if plan.consensus == "BFT":
        section["SmartBFT"] = dict(SMARTBFT_OPTIONS)
        section["ConsenterMapping"] = [
            _bft_consenter(plan, i, node, cluster_domain) for i, node in enumerate(nodes, 1)
        ]
    else:
        section["EtcdRaft"] = {"Consenters": [_raft_consenter(n, cluster_domain) for n in nodes]}
    return section


def _check(plan: Plan) -> None:
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
    for channel in plan.channels:
        if not consenters(plan, channel):
            raise UsageError(
                f"channel {channel.name!r} has no orderer to run it",
                hint="list an organisation that runs orderers in the channel's `orderers`",
            )
        if not channel.members:
            raise UsageError(f"channel {channel.name!r} has no member organisation")


def configtx(plan: Plan, *, cluster_domain: str = layout.DEFAULT_CLUSTER_DOMAIN) -> dict[str, Any]:
    """The configtx document of ``plan`` as plain data (see the module docstring).

    Raises :class:`UsageError` for BFT or Ed25519 on Fabric 2.x and for a channel without
    orderers or members (the topology validation normally refuses these first).
    """
    _check(plan)
    orgs = {o.name: organization(o, cluster_domain=cluster_domain) for o in plan.orgs}
    profiles: dict[str, Any] = {}
    for channel in plan.channels:
        profiles[profile_name(channel)] = {
            "Policies": CHANNEL_POLICIES,
            "Capabilities": channel_capabilities(plan),
            "Orderer": _orderer_section(plan, channel, orgs, cluster_domain),
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


def configtx_yaml(plan: Plan, *, cluster_domain: str = layout.DEFAULT_CLUSTER_DOMAIN) -> str:
    """:func:`configtx` as YAML text (keys in a stable order, no anchors), with a header."""
    body = yaml.dump(
        configtx(plan, cluster_domain=cluster_domain),
        Dumper=_NoAliases,
        sort_keys=False,
        default_flow_style=False,
        width=1000,
    )
    return HEADER + body
