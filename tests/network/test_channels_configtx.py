"""configtx.yaml generated from every example: parsed back with yaml and checked against the
fabric-samples test-network layout (etcdraft and BFT).

Most tests use the Kubernetes addresses and the fixed file layout of :class:`_Files`; the last
ones prove configtx takes every address and path from its arguments.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import topology
from baas import plan as planning
from baas.addressing import Endpoint
from baas.errors import UsageError
from baas.network import configtx
from baas.plan import ChaincodePlan, NodePlan, OrgPlan
from baas.runtimes.kubernetes.addresses import KubernetesAddresses

KUBE = KubernetesAddresses()
CRYPTO_DIR = "/etc/baas/crypto"


@dataclasses.dataclass(frozen=True)
class _Files:
    """A fixed :class:`baas.network.configtx.ConfigtxFiles` layout under :data:`CRYPTO_DIR`."""

    def org_msp_dir(self, org: OrgPlan) -> str:
        return f"{CRYPTO_DIR}/{org.name}/msp"

    def orderer_tls_cert(self, node: NodePlan) -> str:
        return f"{CRYPTO_DIR}/{node.org}/orderers/{node.name}/tls/server.crt"

    def orderer_sign_cert(self, node: NodePlan) -> str:
        return f"{CRYPTO_DIR}/{node.org}/orderers/{node.name}/msp/signcerts/cert.pem"


TOOLBOX = _Files()

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@cache
def _plan(example: Path) -> planning.Plan:
    return planning.build(topology.load(example).network)


def _parsed(plan: planning.Plan) -> dict[str, Any]:
    text = configtx.configtx_yaml(plan, addresses=KUBE, files=TOOLBOX)
    assert "&id" not in text and "*id" not in text  # no anchors/aliases
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def _host(ns: str, svc: str) -> str:
    return f"{svc}.{ns}.svc.cluster.local"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_gives_one_profile_per_channel(example: Path) -> None:
    plan = _plan(example)
    doc = _parsed(plan)
    assert set(doc) == {"Organizations", "Capabilities", "Profiles"}
    assert list(doc["Profiles"]) == [ch.name for ch in plan.channels]
    assert [o["ID"] for o in doc["Organizations"]] == [o.msp_id for o in plan.orgs]
    for channel in plan.channels:
        profile = doc["Profiles"][configtx.profile_name(channel)]
        assert set(profile) == {"Policies", "Capabilities", "Orderer", "Application"}
        assert [o["ID"] for o in profile["Application"]["Organizations"]] == [
            plan.org(m).msp_id for m in channel.members
        ]
        assert [o["ID"] for o in profile["Orderer"]["Organizations"]] == [
            plan.org(m).msp_id for m in channel.orderer_orgs
        ]
        assert profile["Application"]["Capabilities"] == {"V2_5": True}
        assert profile["Orderer"]["Capabilities"] == {"V2_0": True}
        assert "Addresses" not in profile["Orderer"]
        app_policies = profile["Application"]["Policies"]
        assert app_policies["LifecycleEndorsement"] == {
            "Type": "ImplicitMeta",
            "Rule": "MAJORITY Endorsement",
        }
        assert app_policies["Endorsement"] == app_policies["LifecycleEndorsement"]
        assert profile["Orderer"]["Policies"]["BlockValidation"]["Rule"] == "ANY Writers"
        assert {k: v["Rule"] for k, v in profile["Policies"].items()} == {
            "Readers": "ANY Readers",
            "Writers": "ANY Writers",
            "Admins": "MAJORITY Admins",
        }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_organizations_msp_dirs_policies_endpoints_anchors(example: Path) -> None:
    plan = _plan(example)
    orgs = {o["ID"]: o for o in _parsed(plan)["Organizations"]}
    for org in plan.orgs:
        entry = orgs[org.msp_id]
        assert entry["Name"] == org.msp_id
        assert entry["MSPDir"] == f"{CRYPTO_DIR}/{org.name}/msp"
        rules = {k: v["Rule"] for k, v in entry["Policies"].items()}
        assert all(v["Type"] == "Signature" for v in entry["Policies"].values())
        assert rules["Admins"] == f"OR('{org.msp_id}.admin')"
        if org.orderers:
            assert entry["OrdererEndpoints"] == [
                f"{_host(org.namespace, o.service)}:7050" for o in org.orderers
            ]
        else:
            assert "OrdererEndpoints" not in entry
        if org.peers:
            m = org.msp_id
            extra = f", '{m}.orderer'" if org.orderers else ""
            assert rules["Readers"] == f"OR('{m}.admin', '{m}.peer', '{m}.client'{extra})"
            assert rules["Writers"] == f"OR('{m}.admin', '{m}.client'{extra})"
            assert rules["Endorsement"] == f"OR('{m}.peer')"
            assert entry["AnchorPeers"] == [
                {"Host": _host(org.namespace, p.service), "Port": 7051} for p in org.anchor_peers
            ]
        else:
            assert rules["Readers"] == rules["Writers"] == f"OR('{org.msp_id}.member')"
            assert "AnchorPeers" not in entry and "Endorsement" not in rules


def test_two_orgs_matches_test_network_policies() -> None:
    plan = _plan(ROOT / "examples" / "two-orgs.yaml")
    orgs = {o["ID"]: o for o in _parsed(plan)["Organizations"]}
    assert orgs["Org1MSP"]["Policies"]["Readers"]["Rule"] == (
        "OR('Org1MSP.admin', 'Org1MSP.peer', 'Org1MSP.client')"
    )
    assert orgs["OrdererMSP"]["Policies"]["Writers"]["Rule"] == "OR('OrdererMSP.member')"
    assert orgs["Org2MSP"]["AnchorPeers"] == [
        {"Host": "peer0.supplychain-org2.svc.cluster.local", "Port": 7051}
    ]


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if _plan(e).consensus == "etcdraft"], ids=lambda p: p.stem
)
def test_etcdraft_consenters(example: Path) -> None:
    plan = _plan(example)
    doc = _parsed(plan)
    assert doc["Capabilities"]["Channel"] == {"V2_0": True}
    for channel in plan.channels:
        orderer = doc["Profiles"][channel.name]["Orderer"]
        assert doc["Profiles"][channel.name]["Capabilities"] == {"V2_0": True}
        assert orderer["OrdererType"] == "etcdraft"
        assert "SmartBFT" not in orderer and "ConsenterMapping" not in orderer
        nodes = configtx.consenters(plan, channel)
        assert [n.fqdn for n in nodes] == list(channel.consenters)
        cert = "{}/{}/orderers/{}/tls/server.crt"
        assert orderer["EtcdRaft"]["Consenters"] == [
            {
                "Host": _host(n.namespace, n.service),
                "Port": 7055,  # the chart's separate cluster listener
                "ClientTLSCert": cert.format(CRYPTO_DIR, n.org, n.name),
                "ServerTLSCert": cert.format(CRYPTO_DIR, n.org, n.name),
            }
            for n in nodes
        ]


def test_bft_profile() -> None:
    plan = _plan(ROOT / "examples" / "bft.yaml")
    assert plan.consensus == "BFT"
    doc = _parsed(plan)
    assert doc["Capabilities"]["Channel"] == {"V3_0": True}
    profile = doc["Profiles"]["mychannel"]
    assert profile["Capabilities"] == {"V3_0": True}
    orderer = profile["Orderer"]
    assert orderer["OrdererType"] == "BFT"
    assert "Addresses" not in orderer and "EtcdRaft" not in orderer
    assert orderer["SmartBFT"]["RequestBatchMaxCount"] == 100
    assert orderer["SmartBFT"]["LeaderHeartbeatTimeout"] == "1m0s"
    mapping = orderer["ConsenterMapping"]
    assert [m["ID"] for m in mapping] == [1, 2, 3, 4]
    for entry, index in zip(mapping, range(4), strict=True):
        name = f"orderer{index}"
        base = f"{CRYPTO_DIR}/ordererorg/orderers/{name}"
        assert entry == {
            "ID": index + 1,
            "Host": f"{name}.bftnet-ordererorg.svc.cluster.local",
            "Port": 7055,
            "MSPID": "OrdererMSP",
            "Identity": f"{base}/msp/signcerts/cert.pem",
            "ClientTLSCert": f"{base}/tls/server.crt",
            "ServerTLSCert": f"{base}/tls/server.crt",
        }


def test_cluster_domain_is_used_everywhere() -> None:
    plan = _plan(ROOT / "examples" / "two-orgs.yaml")
    addresses = KubernetesAddresses(cluster_domain="k8s.internal")
    text = configtx.configtx_yaml(plan, addresses=addresses, files=TOOLBOX)
    assert "cluster.local" not in text
    assert "orderer0.supplychain-ordererorg.svc.k8s.internal:7050" in text


def test_output_is_deterministic() -> None:
    plan = _plan(ROOT / "examples" / "bft.yaml")
    text = configtx.configtx_yaml(plan, addresses=KUBE, files=TOOLBOX)
    assert text == configtx.configtx_yaml(plan, addresses=KUBE, files=TOOLBOX)
    assert text.startswith("# configtx.yaml generated by baas")


def test_bft_on_fabric_2_is_refused() -> None:
    plan = dataclasses.replace(_plan(ROOT / "examples" / "bft.yaml"), fabric_version="2.5")
    with pytest.raises(UsageError, match="BFT ordering needs Fabric 3"):
        configtx.configtx(plan, addresses=KUBE, files=TOOLBOX)


def test_channel_without_orderers_is_refused() -> None:
    plan = _plan(ROOT / "examples" / "two-orgs.yaml")
    channel = dataclasses.replace(plan.channels[0], orderer_orgs=())
    with pytest.raises(UsageError, match="no orderer"):
        configtx.configtx(
            dataclasses.replace(plan, channels=(channel,)), addresses=KUBE, files=TOOLBOX
        )


def test_ed25519_identities_get_channel_capability_v3() -> None:
    """Channel MSPs accept Ed25519 certificates only at MSP version 3.0 (channel V3_0)."""
    base = _plan(ROOT / "examples" / "two-orgs.yaml")
    plan = dataclasses.replace(
        base,
        fabric_version="3.1",
        pki=dataclasses.replace(base.pki, key_algorithm="Ed25519"),
    )
    doc = _parsed(plan)
    assert plan.consensus == "etcdraft"
    assert doc["Capabilities"]["Channel"] == {"V3_0": True}
    for channel in plan.channels:
        profile = doc["Profiles"][channel.name]
        assert profile["Capabilities"] == {"V3_0": True}
        assert "Addresses" not in profile["Orderer"]  # refused with V3_0
        assert profile["Orderer"]["OrdererType"] == "etcdraft"


def test_bft_with_ed25519_is_refused() -> None:
    base = _plan(ROOT / "examples" / "bft.yaml")
    plan = dataclasses.replace(base, pki=dataclasses.replace(base.pki, key_algorithm="Ed25519"))
    with pytest.raises(UsageError, match="BFT consenters cannot use Ed25519"):
        configtx.configtx(plan, addresses=KUBE, files=TOOLBOX)


def test_ed25519_on_fabric_2_is_refused() -> None:
    base = _plan(ROOT / "examples" / "two-orgs.yaml")
    plan = dataclasses.replace(base, pki=dataclasses.replace(base.pki, key_algorithm="Ed25519"))
    with pytest.raises(UsageError, match="Ed25519 identities need Fabric 3"):
        configtx.configtx(plan, addresses=KUBE, files=TOOLBOX)


# --------------------------------------------------------------------------- target-neutral


@dataclasses.dataclass(frozen=True)
class _LocalAddresses:
    """Addresses as a local runtime might give them: 127.0.0.1, one port block per node."""

    ports: dict[str, int]

    @property
    def listen_host(self) -> str:
        return "127.0.0.1"

    def _at(self, node: NodePlan, offset: int) -> Endpoint:
        return Endpoint("127.0.0.1", self.ports[node.fqdn] + offset)

    def peer(self, node: NodePlan) -> Endpoint:
        return self._at(node, 0)

    def peer_chaincode(self, node: NodePlan) -> Endpoint:
        return self._at(node, 1)

    def orderer(self, node: NodePlan) -> Endpoint:
        return self._at(node, 0)

    def cluster(self, node: NodePlan) -> Endpoint:
        return self._at(node, 1)

    def admin(self, node: NodePlan) -> Endpoint:
        return self._at(node, 2)

    def operations(self, node: NodePlan) -> Endpoint:
        return self._at(node, 3)

    def chaincode(self, org: OrgPlan, chaincode: ChaincodePlan) -> Endpoint:
        return Endpoint("127.0.0.1", 9999)


@dataclasses.dataclass(frozen=True)
class _TreeFiles:
    root: str

    def org_msp_dir(self, org: OrgPlan) -> str:
        return f"{self.root}/{org.name}/msp"

    def orderer_tls_cert(self, node: NodePlan) -> str:
        return f"{self.root}/{node.fqdn}/tls.crt"

    def orderer_sign_cert(self, node: NodePlan) -> str:
        return f"{self.root}/{node.fqdn}/sign.crt"


def _local(plan: planning.Plan) -> _LocalAddresses:
    nodes = [n for org in plan.orgs for n in org.nodes]
    return _LocalAddresses({n.fqdn: 20000 + 10 * i for i, n in enumerate(nodes)})


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_addresses_and_files_come_from_the_arguments_only(example: Path) -> None:
    plan = _plan(example)
    addresses, files = _local(plan), _TreeFiles("/var/lib/baas/crypto")
    text = configtx.configtx_yaml(plan, addresses=addresses, files=files)
    assert ".svc." not in text and "/etc/baas" not in text and ":7050" not in text
    doc = yaml.safe_load(text)
    for org, entry in zip(plan.orgs, doc["Organizations"], strict=True):
        assert entry["MSPDir"] == files.org_msp_dir(org)
        if org.orderers:
            assert entry["OrdererEndpoints"] == [str(addresses.orderer(o)) for o in org.orderers]
        if org.peers:
            assert entry["AnchorPeers"] == [
                {"Host": "127.0.0.1", "Port": addresses.peer(p).port} for p in org.anchor_peers
            ]
    for channel in plan.channels:
        orderer = doc["Profiles"][channel.name]["Orderer"]
        nodes = configtx.consenters(plan, channel)
        listed = orderer.get("ConsenterMapping") or orderer["EtcdRaft"]["Consenters"]
        assert [(c["Host"], c["Port"]) for c in listed] == [
            ("127.0.0.1", addresses.cluster(n).port) for n in nodes
        ]
        assert [c["ServerTLSCert"] for c in listed] == [files.orderer_tls_cert(n) for n in nodes]
        if plan.consensus == "BFT":
            assert [c["Identity"] for c in listed] == [files.orderer_sign_cert(n) for n in nodes]


def test_batch_timeout_and_raft_options_default_to_todays() -> None:
    plan = _plan(ROOT / "examples" / "two-orgs.yaml")
    orderer = _parsed(plan)["Profiles"]["mychannel"]["Orderer"]
    assert orderer["BatchTimeout"] == "2s"
    assert set(orderer["EtcdRaft"]) == {"Consenters"}  # configtxgen's defaults apply


def test_batch_timeout_and_raft_options_are_the_callers() -> None:
    plan = _plan(ROOT / "examples" / "two-orgs.yaml")
    raft = configtx.RaftOptions(tick_interval="100ms", election_tick=20, heartbeat_tick=2)
    doc = configtx.configtx(plan, addresses=KUBE, files=TOOLBOX, batch_timeout="250ms", raft=raft)
    for channel in plan.channels:
        orderer = doc["Profiles"][channel.name]["Orderer"]
        assert orderer["BatchTimeout"] == "250ms"
        assert orderer["EtcdRaft"]["Options"] == {
            "TickInterval": "100ms",
            "ElectionTick": 20,
            "HeartbeatTick": 2,
        }
    text = configtx.configtx_yaml(plan, addresses=KUBE, files=TOOLBOX, raft=configtx.RaftOptions())
    assert "TickInterval: 500ms" in text and "BatchTimeout: 2s" in text


def test_raft_options_are_ignored_under_bft() -> None:
    plan = _plan(ROOT / "examples" / "bft.yaml")
    doc = configtx.configtx(plan, addresses=KUBE, files=TOOLBOX, raft=configtx.RaftOptions())
    assert "EtcdRaft" not in doc["Profiles"]["mychannel"]["Orderer"]


@pytest.mark.parametrize("timeout", ["", "2", "0s", "-1s", "2 s", "1d"])
def test_bad_batch_timeout_is_refused(timeout: str) -> None:
    plan = _plan(ROOT / "examples" / "two-orgs.yaml")
    with pytest.raises(UsageError, match="BatchTimeout"):
        configtx.configtx(plan, addresses=KUBE, files=TOOLBOX, batch_timeout=timeout)


@pytest.mark.parametrize(
    ("tick", "election", "heartbeat"),
    [("0ms", 10, 1), ("fast", 10, 1), ("500ms", 1, 1), ("500ms", 10, 0), ("500ms", 2, 3)],
)
def test_bad_raft_options_are_refused(tick: str, election: int, heartbeat: int) -> None:
    with pytest.raises(UsageError, match="raft"):
        configtx.RaftOptions(tick_interval=tick, election_tick=election, heartbeat_tick=heartbeat)
