"""Structure of the namespaces and NetworkPolicies baas writes (no cluster, no analyser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

import topology
from baas.errors import UsageError
from baas.plan import Plan, build
from baas.runtimes.kubernetes import namespaces as ns_mod
from baas.runtimes.kubernetes import policies
from tests.support.topologies import ISLANDS

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
KUBE_VERSION = "1.34"  # scripts/install-kube.sh pins kube-apiserver v1.34


def plan_of(path: Path) -> Plan:
    return build(topology.load(path).network)


def plan_text(text: str) -> Plan:
    network, _ = topology.loads(text)
    return build(network)


def by_key(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in docs}


def test_examples_exist() -> None:
    assert {p.name for p in EXAMPLES} >= {"two-orgs.yaml", "bft.yaml", "minimal.yaml"}


# ---------------------------------------------------------------------------------- namespaces


def test_namespaces_one_per_org_plus_toolbox() -> None:
    plan = plan_of(REPO / "examples" / "two-orgs.yaml")
    docs = ns_mod.namespace_manifests(plan)
    names = [d["metadata"]["name"] for d in docs]
    assert names == [
        "supplychain-ordererorg",
        "supplychain-org1",
        "supplychain-org2",
        "supplychain-toolbox",
    ]
    org1 = docs[1]["metadata"]["labels"]
    assert org1 == {
        "app.kubernetes.io/managed-by": "baas",
        "baas.io/network": "supplychain",
        "baas.io/org": "org1",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }
    toolbox = docs[3]["metadata"]["labels"]
    assert toolbox["baas.io/role"] == "toolbox"
    assert "baas.io/org" not in toolbox
    assert toolbox["pod-security.kubernetes.io/enforce"] == "restricted"
    assert all(d["apiVersion"] == "v1" and d["kind"] == "Namespace" for d in docs)


def test_namespaces_follow_the_plan() -> None:
    for path in EXAMPLES:
        plan = plan_of(path)
        names = {d["metadata"]["name"] for d in ns_mod.namespace_manifests(plan)}
        assert names == {o.namespace for o in plan.orgs} | {f"{plan.network}-toolbox"}


def test_org_called_toolbox_is_refused() -> None:
    # topology validation refuses this name first; the generators refuse it on their own too
    text = ISLANDS.replace("name: b,", "name: toolbox,").replace(
        "organizations: [b]", "organizations: [toolbox]"
    )
    with pytest.raises(topology.TopologyError, match="reserved"):
        topology.loads(text)
    plan = build(topology.Network.model_validate(yaml.safe_load(text)))
    with pytest.raises(UsageError, match="toolbox"):
        ns_mod.namespace_manifests(plan)
    with pytest.raises(UsageError):
        policies.network_policies(plan)


# ---------------------------------------------------------------------------------- policies


def test_two_orgs_policy_names() -> None:
    plan = plan_of(REPO / "examples" / "two-orgs.yaml")
    keys = [
        (d["metadata"]["namespace"].removeprefix("supplychain-"), d["metadata"]["name"])
        for d in policies.network_policies(plan)
    ]
    assert keys == [
        ("ordererorg", "allow-dns"),
        ("ordererorg", "default-deny"),
        ("ordererorg", "orderer-from-monitoring"),
        ("ordererorg", "orderer-from-peers-org1"),
        ("ordererorg", "orderer-from-peers-org2"),
        ("ordererorg", "same-org-orderer"),
        ("ordererorg", "same-org-test"),
        ("org1", "allow-dns"),
        ("org1", "default-deny"),
        ("org1", "peer-from-monitoring"),
        ("org1", "peer-gossip-org2"),
        ("org1", "peer-to-orderers-ordererorg"),
        ("org1", "same-org-chaincode"),
        ("org1", "same-org-peer"),
        ("org1", "same-org-test"),
        ("org2", "allow-dns"),
        ("org2", "default-deny"),
        ("org2", "peer-from-monitoring"),
        ("org2", "peer-gossip-org1"),
        ("org2", "peer-to-orderers-ordererorg"),
        ("org2", "same-org-chaincode"),
        ("org2", "same-org-peer"),
        ("org2", "same-org-test"),
        ("toolbox", "default-deny"),
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_default_deny_everywhere_and_dns_in_org_namespaces(path: Path) -> None:
    plan = plan_of(path)
    docs = by_key(policies.network_policies(plan))
    for ns in ns_mod.namespace_manifests(plan):
        name = ns["metadata"]["name"]
        deny = docs[(name, "default-deny")]["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert {n for n, _ in docs} == {o.namespace for o in plan.orgs} | {f"{plan.network}-toolbox"}
    for org in plan.orgs:
        dns = docs[(org.namespace, "allow-dns")]["spec"]
        assert dns["podSelector"] == {} and dns["policyTypes"] == ["Egress"]
        assert dns["egress"] == [
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                        },
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"port": 53, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
            }
        ]


def test_peer_to_orderers_policy() -> None:
    plan = plan_of(REPO / "examples" / "two-orgs.yaml")
    docs = by_key(policies.network_policies(plan))
    egress = docs[("supplychain-org1", "peer-to-orderers-ordererorg")]["spec"]
    assert egress == {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/name": "fabric",
                "app.kubernetes.io/component": "peer",
            }
        },
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "supplychain-ordererorg"}
                        },
                        "podSelector": {
                            "matchLabels": {
                                "app.kubernetes.io/name": "fabric",
                                "app.kubernetes.io/component": "orderer",
                            }
                        },
                    }
                ],
                "ports": [{"port": 7050, "protocol": "TCP"}],
            }
        ],
    }
    ingress = docs[("supplychain-ordererorg", "orderer-from-peers-org1")]["spec"]
    assert ingress["policyTypes"] == ["Ingress"]
    assert ingress["ingress"][0]["ports"] == [{"port": 7050, "protocol": "TCP"}]


@pytest.mark.parametrize("path", [*EXAMPLES, None], ids=lambda p: p.stem if p else "islands")
def test_no_rule_opens_the_admin_port_or_involves_the_toolbox(path: Path | None) -> None:
    """The orderer admin port 7053 is reached by port-forward (RBAC) only: no rule names it,
    every rule names its ports (a rule without ports would open all of them), and no rule
    admits or targets the toolbox namespace."""
    plan = plan_of(path) if path else plan_text(ISLANDS)
    toolbox = f"{plan.network}-toolbox"
    for doc in policies.network_policies(plan):
        spec = doc["spec"]
        if doc["metadata"]["namespace"] == toolbox:
            assert doc["metadata"]["name"] == "default-deny"
        for rule in [*spec.get("ingress", []), *spec.get("egress", [])]:
            assert rule["ports"], doc["metadata"]
            assert all(p["port"] != 7053 for p in rule["ports"]), doc["metadata"]
            for peer in rule.get("from", rule.get("to", [])):
                selector = peer.get("namespaceSelector", {}).get("matchLabels", {})
                assert selector.get("kubernetes.io/metadata.name") != toolbox, doc["metadata"]
                assert "baas.io/role" not in selector
    assert all(7053 not in {p.number for p in f.ports} for f in policies.flows(plan))


def test_a_flow_opening_the_admin_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """flows() checks its invariant: were a rule to open 7053, generation fails loudly."""
    plan = plan_of(REPO / "examples" / "minimal.yaml")
    real = policies._same_org_flows

    def with_admin(org: Any, *, runs_chaincode: bool) -> list[policies.Flow]:
        out = real(org, runs_chaincode=runs_chaincode)
        return [
            policies.Flow(
                f.src,
                f.dst,
                (*f.ports, policies.Port(7053)),
                f.purpose,
                f.ingress_policy,
                f.egress_policy,
            )
            for f in out
        ]

    monkeypatch.setattr(policies, "_same_org_flows", with_admin)
    with pytest.raises(AssertionError, match="admin port"):
        policies.network_policies(plan)


@pytest.mark.parametrize("path", [*EXAMPLES, None], ids=lambda p: p.stem if p else "islands")
def test_retired_toolbox_policies_are_listed_for_deletion(path: Path | None) -> None:
    """What earlier releases wrote for the admin Jobs: never generated again, all listed."""
    plan = plan_of(path) if path else plan_text(ISLANDS)
    retired = policies.retired_network_policies(plan)
    keys = [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in retired]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert not set(keys) & set(by_key(policies.network_policies(plan)))
    toolbox = f"{plan.network}-toolbox"
    assert (toolbox, "allow-dns") in keys
    for org in plan.orgs:
        assert (toolbox, f"toolbox-to-{org.name}") in keys
        if org.peers:
            assert (org.namespace, "peer-from-toolbox") in keys
        if org.orderers:
            assert (org.namespace, "orderer-from-toolbox") in keys
    for doc in retired:
        assert doc["apiVersion"] == "networking.k8s.io/v1" and doc["kind"] == "NetworkPolicy"


def test_no_shared_channel_means_no_gossip_policy() -> None:
    plan = plan_text(ISLANDS)
    names = {
        (d["metadata"]["namespace"], d["metadata"]["name"]) for d in policies.network_policies(plan)
    }
    assert not any("gossip" in n for _, n in names)
    assert ("islands-a", "peer-to-orderers-ord1") in names
    assert ("islands-a", "peer-to-orderers-ord2") not in names
    assert ("islands-b", "peer-to-orderers-ord2") in names
    assert ("islands-ord1", "orderer-cluster-ord2") in names
    assert ("islands-ord2", "orderer-cluster-ord1") in names
    assert ("islands-ord2", "orderer-from-peers-a") not in names


def _selector_key(value: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(value.get("matchLabels", {}).items()))


@pytest.mark.parametrize("path", [*EXAMPLES, None], ids=lambda p: p.stem if p else "islands")
def test_every_ingress_is_mirrored_by_an_egress(path: Path | None) -> None:
    """For each ingress rule admitting pods of a baas namespace, some policy of that namespace
    selecting those pods has an egress rule to the receiving pods on at least those ports."""
    plan = plan_of(path) if path else plan_text(ISLANDS)
    docs = policies.network_policies(plan)
    managed = {d["metadata"]["name"] for d in ns_mod.namespace_manifests(plan)}
    # (src ns, src pods, dst ns, dst pods) -> egress ports
    egress: dict[tuple[Any, ...], set[tuple[int, str]]] = {}
    for d in docs:
        src_ns = d["metadata"]["namespace"]
        for rule in d["spec"].get("egress", []):
            for peer in rule["to"]:
                dst_ns = peer.get(
                    "namespaceSelector", {"matchLabels": {"kubernetes.io/metadata.name": src_ns}}
                )["matchLabels"].get("kubernetes.io/metadata.name")
                key = (
                    src_ns,
                    _selector_key(d["spec"]["podSelector"]),
                    dst_ns,
                    _selector_key(peer.get("podSelector", {})),
                )
                egress.setdefault(key, set()).update(
                    (p["port"], p["protocol"]) for p in rule["ports"]
                )
    checked = 0
    for d in docs:
        dst_ns = d["metadata"]["namespace"]
        for rule in d["spec"].get("ingress", []):
            for peer in rule["from"]:
                src_ns = peer.get(
                    "namespaceSelector", {"matchLabels": {"kubernetes.io/metadata.name": dst_ns}}
                )["matchLabels"].get("kubernetes.io/metadata.name")
                if src_ns not in managed:
                    continue  # monitoring: not ours
                key = (
                    src_ns,
                    _selector_key(peer.get("podSelector", {})),
                    dst_ns,
                    _selector_key(d["spec"]["podSelector"]),
                )
                ports = {(p["port"], p["protocol"]) for p in rule["ports"]}
                assert ports <= egress.get(key, set()), (d["metadata"], rule)
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_selectors_use_the_chart_labels(path: Path) -> None:
    plan = plan_of(path)
    allowed_pod_keys = {"app.kubernetes.io/name", "app.kubernetes.io/component", "k8s-app"}
    allowed_ns_keys = {"kubernetes.io/metadata.name", "baas.io/monitoring"}
    for doc in policies.network_policies(plan):
        spec = doc["spec"]
        assert set(spec["podSelector"].get("matchLabels", {})) <= allowed_pod_keys
        for rule in [*spec.get("ingress", []), *spec.get("egress", [])]:
            for peer in rule.get("from", rule.get("to", [])):
                assert set(peer) <= {"namespaceSelector", "podSelector"}
                assert set(peer.get("podSelector", {}).get("matchLabels", {})) <= allowed_pod_keys
                assert (
                    set(peer.get("namespaceSelector", {}).get("matchLabels", {})) <= allowed_ns_keys
                )
            assert rule["ports"], "every rule names its ports"
        labels = doc["metadata"]["labels"]
        assert labels == {"app.kubernetes.io/managed-by": "baas", "baas.io/network": plan.network}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_output_is_deterministic_and_sorted(path: Path) -> None:
    plan = plan_of(path)
    first, second = policies.network_policies(plan), policies.network_policies(plan_of(path))
    assert first == second
    keys = [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in first]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert policies.matrix_markdown(plan) == policies.matrix_markdown(plan_of(path))


@pytest.mark.parametrize("path", [*EXAMPLES, None], ids=lambda p: p.stem if p else "islands")
def test_manifests_pass_kubernetes_validate_strict(path: Path | None) -> None:
    plan = plan_of(path) if path else plan_text(ISLANDS)
    for doc in [*ns_mod.namespace_manifests(plan), *policies.network_policies(plan)]:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_validate_catches_a_bad_field() -> None:
    """The check above has teeth: an unknown field fails strict validation."""
    doc = policies.network_policies(plan_of(REPO / "examples" / "minimal.yaml"))[0]
    doc["spec"]["podSelectr"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


# ---------------------------------------------------------------------------------- matrix


def test_matrix_markdown() -> None:
    plan = plan_of(REPO / "examples" / "two-orgs.yaml")
    table = policies.matrix_markdown(plan)
    lines = table.splitlines()
    assert table.endswith("\n")
    assert lines[0] == "| From | To | Ports | Purpose |"
    assert lines[1] == "| --- | --- | --- | --- |"
    assert all(
        line.startswith("| ") and line.endswith(" |") and line.count(" | ") == 3 for line in lines
    )
    assert len(lines) == 2 + len(policies.flows(plan))
    assert (
        "| `supplychain-org1` peers | `supplychain-ordererorg` orderers | 7050/TCP | "
        "broadcast, deliver |"
    ) in lines
    assert not any("toolbox" in line or "7053" in line for line in lines)
    assert (
        "| namespaces labelled `baas.io/monitoring=true` | `supplychain-ordererorg` orderers | "
        "9443/TCP | metrics, health |"
    ) in lines
    assert not any("org2` peers | `supplychain-org1` chaincode servers" in line for line in lines)
