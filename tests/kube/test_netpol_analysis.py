"""Who can reach whom under baas's NetworkPolicies, computed by IBM's network-config-analyzer.

For every example (and a topology whose organisations share no channel), nca computes the
pod-to-pod connectivity over a synthetic cluster: one pod per node, chaincode server and
``helm test`` pod (with the chart's labels), a scraper in a ``baas.io/monitoring=true``
namespace, kube-dns, and intruders (an unlabelled pod in an org namespace, a pod in ``default``
wearing the peer labels, and in the toolbox a former admin Job and a pod wearing the peer
labels: the toolbox runs nothing any more, so whatever is started there must reach nothing). Its
answer is compared, pair by pair and port by port, with the EXPECTED matrices written below by
hand.

No pod gets an administrator's access: baas's admin client port-forwards through the API server
(RBAC, :mod:`baas.runtimes.kubernetes.rbac`), which NetworkPolicies never see; in particular
nothing at all reaches an orderer's admin port 7053.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import topology
from baas.plan import Plan, build
from baas.runtimes.kubernetes import policies
from tests.support.nca import (
    ConnectivityMap,
    NcaError,
    connectivity,
    find_nca,
    parse_connections,
    parse_connectivity,
)
from tests.support.topologies import ISLANDS

REPO = Path(__file__).resolve().parents[2]


# Ports probed for every pair of pods: every Fabric port, DNS, and two unrelated ones.
PROBES: tuple[tuple[int, str], ...] = (
    (53, "UDP"),
    (53, "TCP"),
    (22, "TCP"),
    (443, "TCP"),
    (7050, "TCP"),
    (7051, "TCP"),
    (7052, "TCP"),
    (7053, "TCP"),
    (7055, "TCP"),
    (9443, "TCP"),
    (9999, "TCP"),
)

# ------------------------------------------------------------------------------ expectations
# (source pods, destination pods, ports) with fnmatch patterns over "namespace/pod". A port is
# "N" (TCP) or "N/UDP". Everything not listed must be denied, except traffic between two
# namespaces baas does not manage (kube-system, monitoring, default), which is not ours.

Rule = tuple[str, str, str]


def _common(net: str, orgs: str) -> list[Rule]:
    """DNS from every pod of the organisation namespaces ``<net>-<orgs>`` (an fnmatch pattern;
    not the toolbox), and the monitoring scrapes."""
    return [
        (f"{net}-{orgs}/*", "kube-system/coredns", "53 53/UDP"),
        ("monitoring/prometheus", f"{net}-*/peer*", "9443"),
        ("monitoring/prometheus", f"{net}-*/orderer*", "9443"),
    ]


def _two_peer_orgs(net: str) -> list[Rule]:
    """two-orgs.yaml and bft.yaml: ordererorg orders mychannel of org1 and org2 (+ chaincode)."""
    return [
        *_common(net, "or[dg]*"),
        (f"{net}-org1/peer*", f"{net}-org1/peer*", "7051"),
        (f"{net}-org2/peer*", f"{net}-org2/peer*", "7051"),
        (f"{net}-org1/peer*", f"{net}-org2/peer*", "7051"),
        (f"{net}-org2/peer*", f"{net}-org1/peer*", "7051"),
        (f"{net}-org[12]/peer*", f"{net}-ordererorg/orderer*", "7050"),
        (f"{net}-ordererorg/orderer*", f"{net}-ordererorg/orderer*", "7055"),
        (f"{net}-org1/peer*", f"{net}-org1/cc-basic", "9999"),
        (f"{net}-org2/peer*", f"{net}-org2/cc-basic", "9999"),
        (f"{net}-org1/helm-test", f"{net}-org1/peer*", "7051 9443"),
        (f"{net}-org2/helm-test", f"{net}-org2/peer*", "7051 9443"),
        (f"{net}-ordererorg/helm-test", f"{net}-ordererorg/orderer*", "7050 9443"),
    ]


EXPECTED: dict[str, list[Rule]] = {
    "two-orgs": _two_peer_orgs("supplychain"),
    "bft": _two_peer_orgs("bftnet"),
    "minimal": [
        *_common("minimal", "org1"),
        ("minimal-org1/peer0", "minimal-org1/orderer0", "7050"),
        ("minimal-org1/helm-test", "minimal-org1/peer0", "7051 9443"),
        ("minimal-org1/helm-test", "minimal-org1/orderer0", "7050 9443"),
    ],
    "islands": [
        *_common("islands", "[!t]*"),
        ("islands-a/peer0", "islands-ord1/orderer0", "7050"),
        ("islands-b/peer0", "islands-ord[12]/orderer0", "7050"),
        ("islands-ord1/orderer0", "islands-ord2/orderer0", "7055"),
        ("islands-ord2/orderer0", "islands-ord1/orderer0", "7055"),
        ("islands-a/helm-test", "islands-a/peer0", "7051 9443"),
        ("islands-b/helm-test", "islands-b/peer0", "7051 9443"),
        ("islands-ord1/helm-test", "islands-ord1/orderer0", "7050 9443"),
        ("islands-ord2/helm-test", "islands-ord2/orderer0", "7050 9443"),
    ],
}


def _ports(text: str) -> set[tuple[int, str]]:
    out = set()
    for item in text.split():
        number, _, proto = item.partition("/")
        out.add((int(number), proto or "TCP"))
    return out


def expected_allows(rules: list[Rule], src: str, dst: str, port: tuple[int, str]) -> bool:
    return any(
        fnmatch.fnmatchcase(src, s) and fnmatch.fnmatchcase(dst, d) and port in _ports(p)
        for s, d, p in rules
    )


# ------------------------------------------------------------------------------ synthetic pods


def _pod(namespace: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": "example.invalid/fabric:1"}]},
    }


def _namespace(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {**labels, "kubernetes.io/metadata.name": name}},
    }


def chart_labels(plan: Plan, org: str, component: str, **extra: str) -> dict[str, str]:
    """The labels charts/fabric puts on its pods (the contract in
    baas.runtimes.kubernetes.namespaces)."""
    return {
        "app.kubernetes.io/name": "fabric",
        "app.kubernetes.io/instance": org,
        "app.kubernetes.io/component": component,
        "baas.io/org": org,
        "baas.io/network": plan.network,
        **extra,
    }


def synthetic_cluster(plan: Plan) -> tuple[list[dict[str, Any]], list[str]]:
    """(Namespace + Pod documents, pod ids ``namespace/name``)."""
    toolbox = f"{plan.network}-toolbox"
    docs = [
        _namespace(d["metadata"]["name"], d["metadata"]["labels"])
        for d in policies.namespace_manifests(plan)
    ]
    docs += [
        _namespace("kube-system", {}),
        _namespace("default", {}),
        _namespace("monitoring", {"baas.io/monitoring": "true"}),
    ]
    pods = [
        _pod("kube-system", "coredns", {"k8s-app": "kube-dns"}),
        _pod("kube-system", "metrics-server", {"k8s-app": "metrics-server"}),
        _pod("monitoring", "prometheus", {"app.kubernetes.io/name": "prometheus"}),
        _pod("default", "intruder", {"app": "intruder"}),
        _pod("default", "fake-peer", chart_labels(plan, "org1", "peer")),
        _pod(toolbox, "admin-job", {"app.kubernetes.io/name": "baas-admin"}),
        _pod(toolbox, "fake-peer", chart_labels(plan, "org1", "peer")),
    ]
    for org in plan.orgs:
        for node in org.nodes:
            pods.append(
                _pod(
                    org.namespace,
                    node.name,
                    chart_labels(plan, org.name, node.role, **{"baas.io/node": node.name}),
                )
            )
        pods.append(_pod(org.namespace, "helm-test", chart_labels(plan, org.name, "test")))
        pods.append(_pod(org.namespace, "stray", {"app": "stray"}))
        for cc in plan.chaincodes:
            channel = next(c for c in plan.channels if c.name == cc.channel)
            if org.name in channel.members and org.peers:
                pods.append(
                    _pod(
                        org.namespace,
                        f"cc-{cc.name}",
                        chart_labels(plan, org.name, "chaincode", **{"baas.io/chaincode": cc.name}),
                    )
                )
    docs += pods
    ids = [f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods]
    return docs, ids


# ------------------------------------------------------------------------------ fixtures


def load_plan(name: str) -> Plan:
    if name == "islands":
        network, _ = topology.loads(ISLANDS)
        return build(network)
    return build(topology.load(REPO / "examples" / f"{name}.yaml").network)


@dataclass(frozen=True)
class Analysis:
    plan: Plan
    pods: list[str]
    map: ConnectivityMap

    def allows(self, src: str, dst: str, port: int, protocol: str = "TCP") -> bool:
        assert src in self.pods and dst in self.pods, (src, dst)
        return self.map.allows(src, dst, port, protocol)

    def matching(self, pattern: str) -> list[str]:
        found = [p for p in self.pods if fnmatch.fnmatchcase(p, pattern)]
        assert found, pattern
        return found


@pytest.fixture(scope="session")
def nca() -> Path:
    try:
        return find_nca()
    except NcaError as exc:
        pytest.fail(f"network-config-analyzer is unavailable: {exc}")


_CACHE: dict[str, Analysis] = {}


@pytest.fixture(scope="module")
def analyse(nca: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    def run(name: str) -> Analysis:
        if name not in _CACHE:
            plan = load_plan(name)
            resources, pods = synthetic_cluster(plan)
            result = connectivity(
                nca,
                policies=policies.network_policies(plan),
                resources=resources,
                workdir=tmp_path_factory.mktemp(f"nca-{name}"),
            )
            _CACHE[name] = Analysis(plan, pods, result)
        return _CACHE[name]

    yield run


# ------------------------------------------------------------------------------ the matrix


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_connectivity_matches_expected_matrix(name: str, analyse: Any) -> None:
    analysis: Analysis = analyse(name)
    rules = EXPECTED[name]
    for s, d, _ in rules:  # every pattern names pods that exist
        analysis.matching(s)
        analysis.matching(d)
    managed = {o.namespace for o in analysis.plan.orgs} | {f"{analysis.plan.network}-toolbox"}
    wrong = []
    for src in analysis.pods:
        for dst in analysis.pods:
            if src == dst or not ({src.split("/")[0], dst.split("/")[0]} & managed):
                continue
            for port, proto in PROBES:
                want = expected_allows(rules, src, dst, (port, proto))
                if analysis.allows(src, dst, port, proto) != want:
                    wrong.append(
                        f"{src} -> {dst} {port}/{proto}: expected {'allowed' if want else 'denied'}"
                    )
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------------------ named properties


def test_other_org_cannot_reach_chaincode(analyse: Any) -> None:
    a: Analysis = analyse("two-orgs")
    cc = "supplychain-org1/cc-basic"
    assert a.allows("supplychain-org1/peer0", cc, 9999)
    for src in a.pods:
        if src != cc and not src.startswith("supplychain-org1/peer"):
            assert not a.allows(src, cc, 9999), src


def test_channel_peers_reach_its_orderers(analyse: Any) -> None:
    for name, net in (("two-orgs", "supplychain"), ("bft", "bftnet")):
        a: Analysis = analyse(name)
        for peer in a.matching(f"{net}-org*/peer*"):
            for orderer in a.matching(f"{net}-ordererorg/orderer*"):
                assert a.allows(peer, orderer, 7050)
                assert not a.allows(peer, orderer, 7053)


def test_no_pod_reaches_an_orderer_admin_port(analyse: Any) -> None:
    """Channel participation (7053) is for the admin route only: port-forward, i.e. RBAC."""
    for name in EXPECTED:
        a: Analysis = analyse(name)
        orderers = a.matching(f"{a.plan.network}-*/orderer*")
        assert len(orderers) == sum(len(o.orderers) for o in a.plan.orgs)
        for orderer in orderers:
            reach = {src for src in a.pods if src != orderer and a.allows(src, orderer, 7053)}
            assert reach == set(), (orderer, reach)


def test_the_toolbox_reaches_nothing_and_nothing_reaches_it(analyse: Any) -> None:
    """The toolbox runs no pods since admin Jobs were retired: a pod started there (even one
    wearing the peer labels) gets no connection at all, not even DNS, and none is made to it."""
    for name in EXPECTED:
        a: Analysis = analyse(name)
        box = a.matching(f"{a.plan.network}-toolbox/*")
        assert len(box) == 2
        for pod in box:
            for other in a.pods:
                if other == pod:
                    continue
                for port, proto in PROBES:
                    assert not a.allows(pod, other, port, proto), (pod, other, port, proto)
                    assert not a.allows(other, pod, port, proto), (other, pod, port, proto)


def test_monitoring_reaches_operations_but_other_orgs_do_not(analyse: Any) -> None:
    a: Analysis = analyse("two-orgs")
    assert a.allows("monitoring/prometheus", "supplychain-org1/peer0", 9443)
    assert a.allows("monitoring/prometheus", "supplychain-ordererorg/orderer0", 9443)
    assert not a.allows("supplychain-org2/peer0", "supplychain-org1/peer0", 9443)
    assert not a.allows("default/intruder", "supplychain-org1/peer0", 9443)
    assert not a.allows("monitoring/prometheus", "supplychain-org1/peer0", 7051)


def test_orderers_reach_each_other_on_the_cluster_port(analyse: Any) -> None:
    a: Analysis = analyse("bft")
    orderers = a.matching("bftnet-ordererorg/orderer*")
    assert len(orderers) == 4
    for x in orderers:
        for y in orderers:
            if x != y:
                assert a.allows(x, y, 7055)
    i: Analysis = analyse("islands")
    assert i.allows("islands-ord1/orderer0", "islands-ord2/orderer0", 7055)


def test_peers_of_a_shared_channel_gossip(analyse: Any) -> None:
    a: Analysis = analyse("two-orgs")
    assert a.allows("supplychain-org1/peer0", "supplychain-org2/peer1", 7051)
    assert a.allows("supplychain-org2/peer1", "supplychain-org1/peer0", 7051)


def test_orgs_without_a_shared_channel_are_isolated(analyse: Any) -> None:
    a: Analysis = analyse("islands")
    for port, proto in PROBES:
        assert not a.allows("islands-a/peer0", "islands-b/peer0", port, proto)
        assert not a.allows("islands-b/peer0", "islands-a/peer0", port, proto)
    # a's channel is ordered by ord1 only
    assert a.allows("islands-a/peer0", "islands-ord1/orderer0", 7050)
    assert not a.allows("islands-a/peer0", "islands-ord2/orderer0", 7050)


def test_impostors_outside_the_namespaces_get_nothing(analyse: Any) -> None:
    a: Analysis = analyse("two-orgs")
    for dst in a.matching("supplychain-*/*"):
        for src in ("default/fake-peer", "default/intruder", "kube-system/coredns"):
            assert not a.map.connections(src, dst).allows(7051), (src, dst)
            assert not a.map.connections(src, dst).allows(7050), (src, dst)


def test_egress_policies_matter(nca: Path, tmp_path: Path) -> None:
    """Dropping the sender's egress policy cuts the flow although the receiver still admits it:
    the analysis sees both ends."""
    plan = load_plan("two-orgs")
    resources, _ = synthetic_cluster(plan)
    kept = [
        p
        for p in policies.network_policies(plan)
        if (p["metadata"]["namespace"], p["metadata"]["name"])
        != ("supplychain-org1", "peer-to-orderers-ordererorg")
    ]
    result = connectivity(nca, policies=kept, resources=resources, workdir=tmp_path)
    assert not result.allows("supplychain-org1/peer0", "supplychain-ordererorg/orderer0", 7050)
    assert result.allows("supplychain-org2/peer0", "supplychain-ordererorg/orderer0", 7050)


# ------------------------------------------------------------------------------ the parser


def test_parse_connections_forms() -> None:
    assert parse_connections("All connections").allows(1, "SCTP")
    assert not parse_connections("No connections").allows(7050)
    tcp = parse_connections("{protocols:TCP,dst_ports:7050,7053}")
    assert tcp.allows(7050) and tcp.allows(7053) and not tcp.allows(7051)
    assert not tcp.allows(7050, "UDP")
    dns = parse_connections("{protocols:TCP, UDP,dst_ports:53}")
    assert dns.allows(53, "UDP") and dns.allows(53, "TCP") and not dns.allows(54)
    ranged = parse_connections("{protocols:TCP,dst_ports:1-100,200},{protocols:UDP}")
    assert ranged.allows(50) and ranged.allows(200) and not ranged.allows(150)
    assert ranged.allows(150, "UDP")
    negated = parse_connections("All but {protocols:TCP,dst_ports:22}")
    assert not negated.allows(22) and negated.allows(23) and negated.allows(22, "UDP")
    not_tcp = parse_connections("{protocols:all but TCP}")
    assert not_tcp.allows(53, "UDP") and not not_tcp.allows(53, "TCP")


@pytest.mark.parametrize("text", ["{src_ports:80}", "ports 80", "{protocols:TCP,dst_ports:x}"])
def test_parse_connections_refuses_unknown_forms(text: str) -> None:
    with pytest.raises(NcaError):
        parse_connections(text)


def test_parse_connectivity_lines() -> None:
    text = "\n".join(
        [
            "global: cluster has 3 unique endpoints",
            "0.0.0.0-255.255.255.255 => ns/a[Pod] : All connections",
            "ns/a[Pod] => ns/b[Pod] : {protocols:TCP,dst_ports:7051}",
            "",
        ]
    )
    parsed = parse_connectivity(text)
    assert parsed.allows("ns/a", "ns/b", 7051)
    assert not parsed.allows("ns/b", "ns/a", 7051)
    assert parsed.allows("ns/b", "ns/b", 7051)  # a pod reaches itself
    assert parsed.allows("0.0.0.0-255.255.255.255", "ns/a", 1)
    with pytest.raises(NcaError):
        parse_connectivity(
            "ns/a[Pod] => ns/b[Pod] : {protocols:TCP}\nns/a[Pod] => ns/b[Pod] : {protocols:UDP}"
        )
