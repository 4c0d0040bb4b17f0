"""Derived names (topology/names.py), the plan (baas/plan.py) and what the PKI is asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import topology
from baas import plan as planning
from pki.spec import NodeSpec, OrgSpec
from topology import names

Doc = dict[str, Any]
Load = Callable[[object], topology.LoadedTopology]


@pytest.fixture
def net(load: Load, doc: Doc) -> topology.Network:
    return load(doc).network


def test_names(net: topology.Network) -> None:
    assert names.org_domain(net, "org1") == "org1.example.com"
    assert names.node_name(net, "org1", "peer0") == "peer0.org1.example.com"
    assert names.namespace(net, "org1") == "supplychain-org1"
    assert names.admin_identity(net, "org1") == "Admin@org1.example.com"
    assert names.user_identity(net, "org1", "alice") == "alice@org1.example.com"
    assert names.service_names("ns", "peer0") == (
        "peer0",
        "peer0.ns",
        "peer0.ns.svc",
        "peer0.ns.svc.cluster.local",
    )


def test_plan(net: topology.Network) -> None:
    plan = planning.build(net)
    assert (plan.network, plan.fabric_version, plan.fabric_release) == (
        "supplychain",
        "2.5",
        "2.5.16",
    )
    org1 = plan.org("org1")
    assert org1.namespace == "supplychain-org1"
    assert [p.fqdn for p in org1.peers] == ["peer0.org1.example.com", "peer1.org1.example.com"]
    assert [p.fqdn for p in org1.anchor_peers] == ["peer0.org1.example.com"]
    assert org1.identities == (
        "peer0.org1.example.com",
        "peer1.org1.example.com",
        "Admin@org1.example.com",
        "alice@org1.example.com",
    )
    assert plan.org("ordererorg").anchor_peers == ()
    (channel,) = plan.channels
    assert channel.members == ("org1", "org2")
    assert channel.consenters == tuple(f"orderer{i}.ordererorg.example.com" for i in range(3))
    (cc,) = plan.chaincodes
    assert (cc.label, cc.endorsement_is_default) == ("basic_1.0", False)
    with pytest.raises(KeyError):
        plan.org("nobody")


def test_plan_defaults_endorsement_and_anchor(load: Load, doc: Doc) -> None:
    del doc["spec"]["chaincodes"][0]["endorsement"]
    doc["spec"]["organizations"][2]["peers"][0]["anchor"] = False
    doc["spec"]["organizations"][2]["peers"][1]["anchor"] = True
    doc["spec"]["organizations"][1]["peers"][0]["anchor"] = False
    plan = planning.build(load(doc).network)
    (cc,) = plan.chaincodes
    assert cc.endorsement == planning.DEFAULT_ENDORSEMENT and cc.endorsement_is_default
    assert [p.name for p in plan.org("org1").anchor_peers] == ["peer0"]  # first peer
    assert [p.name for p in plan.org("org2").anchor_peers] == ["peer1"]  # declared


def test_plan_is_deterministic(net: topology.Network) -> None:
    assert planning.build(net) == planning.build(net)
    assert planning.build(net).to_dict() == planning.build(net).to_dict()


def test_plan_to_dict_is_json_ready(net: topology.Network) -> None:
    data = planning.build(net).to_dict()
    assert data["pki"] == {"keyAlgorithm": "P-256", "caValidityDays": 3650, "leafValidityDays": 365}
    assert data["orgs"][1]["peers"][0]["fqdn"] == "peer0.org1.example.com"


def test_pki_org_specs(net: topology.Network) -> None:
    specs = planning.pki_org_specs(net)
    assert [s.name for s in specs] == ["ordererorg", "org1", "org2"]
    org1 = specs[1]
    assert isinstance(org1, OrgSpec)
    assert (org1.msp_id, org1.domain, org1.users) == ("Org1MSP", "org1.example.com", ("alice",))
    assert org1.has_peers and not specs[0].has_peers
    assert [n.name for n in org1.nodes] == ["peer0.org1.example.com", "peer1.org1.example.com"]
    peer0 = org1.nodes[0]
    assert isinstance(peer0, NodeSpec)
    assert (peer0.short_name, peer0.role) == ("peer0", "peer")
    assert peer0.sans == (
        "peer0",
        "peer0.supplychain-org1",
        "peer0.supplychain-org1.svc",
        "peer0.supplychain-org1.svc.cluster.local",
        "localhost",
        "127.0.0.1",
    )
    orderer2 = specs[0].nodes[2]
    assert (orderer2.name, orderer2.role) == ("orderer2.ordererorg.example.com", "orderer")
    assert "orderer2.supplychain-ordererorg.svc.cluster.local" in orderer2.sans


def test_sans_list_every_name_once(net: topology.Network) -> None:
    for spec in planning.pki_org_specs(net):
        for node in spec.nodes:
            assert len(set(node.sans)) == len(node.sans)


def test_pki_options(load: Load, doc: Doc) -> None:
    doc["spec"]["pki"] = {"keyAlgorithm": "P-384", "leafValidityDays": 90}
    options = planning.pki_options(load(doc).network)
    assert (options.key_algorithm, options.ca_validity_days, options.leaf_validity_days) == (
        "P-384",
        3650,
        90,
    )
