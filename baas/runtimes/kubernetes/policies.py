"""NetworkPolicies of a network: deny everything, then allow only what Fabric's nodes need.

Pure functions over the :class:`baas.plan.Plan`. Every baas namespace (one per organisation and
the toolbox, see :mod:`baas.runtimes.kubernetes.namespaces`) gets a ``default-deny`` policy for
ingress AND egress, then ``allow-*`` policies for each flow below. Each flow is allowed on both
ends: an ingress rule on the receiving pods and, when the sender lives in a baas namespace, the
mirror egress rule on the sending pods.

Flows (all TCP unless stated; container ports from :data:`baas.plan.PORTS`):

* every pod of an organisation namespace -> kube-dns in ``kube-system``, 53/UDP and 53/TCP;
* inside an organisation: peer -> peer 7051, peer -> orderer 7050, orderer -> orderer 7055,
  peer -> chaincode server 9999, ``helm test`` pods -> peers 7051/9443 and orderers 7050/9443;
  nothing else (an organisation's orderer cannot reach its chaincode servers; the peer's
  chaincode listener 7052 stays closed: chaincode runs as a service, dialled by peers);
* peers -> the orderers (7050) of the orderer organisations of every channel they belong to;
* peer <-> peer 7051 between organisations that share a channel (gossip, endorsement);
* orderer <-> orderer 7055 (cluster) between the orderer organisations of a common channel;
* namespaces labelled ``baas.io/monitoring=true`` -> every peer and orderer 9443 (operations:
  metrics, health). baas does not manage those namespaces, so their egress is theirs to allow.

Nothing reaches an orderer's admin port 7053 (channel participation), and no pod anywhere is
allowed to any node as an administrator: the toolbox namespace runs no pods (it keeps only
``default-deny``: a pod started there reaches nothing, not even DNS).

**The admin route is not a network flow.** baas's admin client (channel joins, channel
updates, chaincode lifecycle; :mod:`baas.runtimes.kubernetes.admin_route`) runs on the
administrator's machine and dials each node's pod port through the API server's
``pods/portforward`` subresource (:mod:`baas.runtimes.kubernetes.portforward`). A port-forwarded
connection is opened by the kubelet inside the pod's own network namespace, so NetworkPolicies
never see it: what grants it is RBAC alone, ``create`` on ``pods/portforward`` in the
organisation's namespace (:func:`baas.runtimes.kubernetes.rbac.admin_route_roles` writes that
Role down). Whoever holds that verb on an organisation namespace is, network-wise, that
organisation's administrator; Fabric's own mutual TLS and MSP checks still decide what the
connection may do.

Pods are selected by the chart's labels (:data:`LABEL_NAME` = ``fabric`` and
:data:`LABEL_COMPONENT`), namespaces by ``kubernetes.io/metadata.name``. Outside the policies'
reach by design: traffic inside a pod (a CouchDB sidecar on localhost), port-forwards (above)
and, on most network plugins, the kubelet's probes. Clients outside the network's namespaces
(applications using the Gateway API) need an extra policy of the operator's choosing.

Output is deterministic: policies sorted by namespace then name, rules sorted.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from baas.errors import UsageError
from baas.plan import PORTS, OrgPlan, Plan
from baas.runtimes.kubernetes.namespaces import (
    APP_NAME,
    COMPONENT_CHAINCODE,
    COMPONENT_ORDERER,
    COMPONENT_PEER,
    COMPONENT_TEST,
    LABEL_CHAINCODE,
    LABEL_COMPONENT,
    LABEL_INSTANCE,
    LABEL_MANAGED_BY,
    LABEL_MONITORING,
    LABEL_NAME,
    LABEL_NAMESPACE_NAME,
    LABEL_NETWORK,
    LABEL_NODE,
    LABEL_ORG,
    LABEL_ROLE,
    MANAGED_BY,
    MONITORING_VALUE,
    ROLE_TOOLBOX,
    namespace_manifests,
    toolbox_namespace,
)

__all__ = [
    "APP_NAME",
    "COMPONENT_CHAINCODE",
    "COMPONENT_ORDERER",
    "COMPONENT_PEER",
    "COMPONENT_TEST",
    "DEFAULT_DENY",
    "DNS_NAMESPACE",
    "DNS_POD_LABELS",
    "LABEL_CHAINCODE",
    "LABEL_COMPONENT",
    "LABEL_INSTANCE",
    "LABEL_MANAGED_BY",
    "LABEL_MONITORING",
    "LABEL_NAME",
    "LABEL_NAMESPACE_NAME",
    "LABEL_NETWORK",
    "LABEL_NODE",
    "LABEL_ORG",
    "LABEL_ROLE",
    "MANAGED_BY",
    "MONITORING_VALUE",
    "ROLE_TOOLBOX",
    "Endpoint",
    "Flow",
    "Port",
    "flows",
    "matrix_markdown",
    "namespace_manifests",
    "network_policies",
    "retired_network_policies",
    "toolbox_namespace",
]

DEFAULT_DENY = "default-deny"
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS: tuple[tuple[str, str], ...] = (("k8s-app", "kube-dns"),)
"""CoreDNS and kube-dns both carry ``k8s-app=kube-dns``."""


@dataclass(frozen=True, order=True)
class Port:
    number: int
    protocol: str = "TCP"

    def manifest(self) -> dict[str, Any]:
        return {"port": self.number, "protocol": self.protocol}

    def __str__(self) -> str:
        return f"{self.number}/{self.protocol}"


@dataclass(frozen=True, order=True)
class Endpoint:
    """One end of a flow: the pods matching ``pod_labels`` (every pod when empty) in
    ``namespace``, or, when ``namespace`` is ``None``, in every namespace matching
    ``namespace_labels``. ``managed`` says whether baas writes policies in that namespace."""

    title: str
    namespace: str | None
    pod_labels: tuple[tuple[str, str], ...] = ()
    namespace_labels: tuple[tuple[str, str], ...] = ()
    managed: bool = True

    def pod_selector(self) -> dict[str, Any]:
        return {"matchLabels": dict(self.pod_labels)} if self.pod_labels else {}

    def namespace_selector(self) -> dict[str, Any]:
        if self.namespace is not None:
            return {"matchLabels": {LABEL_NAMESPACE_NAME: self.namespace}}
        return {"matchLabels": dict(self.namespace_labels)}

    def peer(self, seen_from: str) -> dict[str, Any]:
        """The NetworkPolicyPeer selecting these pods from a policy in namespace ``seen_from``:
        a bare ``podSelector`` for the same namespace, else ``namespaceSelector`` (+
        ``podSelector`` when pods are narrowed)."""
        if self.namespace == seen_from:
            return {"podSelector": self.pod_selector()}
        peer: dict[str, Any] = {"namespaceSelector": self.namespace_selector()}
        if self.pod_labels:
            peer["podSelector"] = self.pod_selector()
        return peer


@dataclass(frozen=True)
class Flow:
    """``src`` may open connections to ``dst`` on ``ports``. The rule allowing it lives in the
    policy ``ingress_policy`` of ``dst``'s namespace and, mirrored, ``egress_policy`` of
    ``src``'s (``None`` where baas does not manage the namespace)."""

    src: Endpoint
    dst: Endpoint
    ports: tuple[Port, ...]
    purpose: str
    ingress_policy: str | None
    egress_policy: str | None


_TITLES = {
    COMPONENT_PEER: "peers",
    COMPONENT_ORDERER: "orderers",
    COMPONENT_CHAINCODE: "chaincode servers",
    COMPONENT_TEST: "helm test pods",
}


def _pods(namespace: str, component: str) -> Endpoint:
    return Endpoint(
        title=f"`{namespace}` {_TITLES[component]}",
        namespace=namespace,
        pod_labels=((LABEL_NAME, APP_NAME), (LABEL_COMPONENT, component)),
    )


def _any_pod(namespace: str) -> Endpoint:
    return Endpoint(title=f"`{namespace}` (any pod)", namespace=namespace)


_DNS = Endpoint(
    title=f"`{DNS_NAMESPACE}` kube-dns",
    namespace=DNS_NAMESPACE,
    pod_labels=DNS_POD_LABELS,
    managed=False,
)
_MONITORING = Endpoint(
    title=f"namespaces labelled `{LABEL_MONITORING}={MONITORING_VALUE}`",
    namespace=None,
    namespace_labels=((LABEL_MONITORING, MONITORING_VALUE),),
    managed=False,
)


def _tcp(*numbers: int) -> tuple[Port, ...]:
    return tuple(Port(n) for n in numbers)


def _chaincode_orgs(plan: Plan) -> set[str]:
    """Organisations that run chaincode servers: members of a channel that has chaincodes."""
    channels = {cc.channel for cc in plan.chaincodes}
    return {m for ch in plan.channels if ch.name in channels for m in ch.members}


def _same_org_flows(org: OrgPlan, *, runs_chaincode: bool) -> list[Flow]:
    ns = org.namespace
    peers, orderers, tests = (
        _pods(ns, COMPONENT_PEER),
        _pods(ns, COMPONENT_ORDERER),
        _pods(ns, COMPONENT_TEST),
    )
    peer_policy, orderer_policy = f"same-org-{COMPONENT_PEER}", f"same-org-{COMPONENT_ORDERER}"
    test_policy = f"same-org-{COMPONENT_TEST}"
    out: list[Flow] = []
    if org.peers:
        out.append(
            Flow(peers, peers, _tcp(PORTS.peer), "gossip, endorsement", peer_policy, peer_policy)
        )
        out.append(
            Flow(
                tests,
                peers,
                _tcp(PORTS.peer, PORTS.operations),
                "helm test",
                peer_policy,
                test_policy,
            )
        )
        if runs_chaincode:
            out.append(
                Flow(
                    peers,
                    _pods(ns, COMPONENT_CHAINCODE),
                    _tcp(PORTS.chaincode),
                    "chaincode as a service",
                    f"same-org-{COMPONENT_CHAINCODE}",
                    peer_policy,
                )
            )
    if org.orderers:
        out.append(
            Flow(
                orderers,
                orderers,
                _tcp(PORTS.orderer_cluster),
                "orderer cluster",
                orderer_policy,
                orderer_policy,
            )
        )
        out.append(
            Flow(
                tests,
                orderers,
                _tcp(PORTS.orderer, PORTS.operations),
                "helm test",
                orderer_policy,
                test_policy,
            )
        )
    if org.peers and org.orderers:
        out.append(
            Flow(
                peers,
                orderers,
                _tcp(PORTS.orderer),
                "broadcast, deliver",
                orderer_policy,
                peer_policy,
            )
        )
    return out


def _monitoring_flows(org: OrgPlan) -> list[Flow]:
    """Scrapes of the operations port (metrics, health) from monitoring namespaces."""
    ns = org.namespace
    out: list[Flow] = []
    for present, component in ((org.peers, COMPONENT_PEER), (org.orderers, COMPONENT_ORDERER)):
        if present:
            out.append(
                Flow(
                    _MONITORING,
                    _pods(ns, component),
                    _tcp(PORTS.operations),
                    "metrics, health",
                    f"{component}-from-monitoring",
                    None,
                )
            )
    return out


def _check_admin_port_closed(allowed: Iterable[Flow]) -> None:
    """The invariant this module keeps: no flow opens the orderer admin port (port-forward and
    RBAC are the only way to it). A violation is a bug in this module, not user input."""
    admin = Port(PORTS.orderer_admin)
    for flow in allowed:
        if admin in flow.ports:
            raise AssertionError(f"flow {flow.purpose!r} opens the orderer admin port {admin}")


def _cross_org_pairs(
    plan: Plan,
) -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[tuple[str, str]]]:
    """(peer org, peer org), (peer org, orderer org), (orderer org, orderer org) pairs of
    distinct organisations sharing a channel, both directions for the symmetric ones."""
    by_name = {o.name: o for o in plan.orgs}
    gossip: set[tuple[str, str]] = set()
    delivery: set[tuple[str, str]] = set()
    cluster: set[tuple[str, str]] = set()
    for ch in plan.channels:
        members = [m for m in ch.members if m in by_name and by_name[m].peers]
        orderer_orgs = [o for o in ch.orderer_orgs if o in by_name and by_name[o].orderers]
        gossip |= {(a, b) for a in members for b in members if a != b}
        delivery |= {(m, o) for m in members for o in orderer_orgs if m != o}
        cluster |= {(a, b) for a in orderer_orgs for b in orderer_orgs if a != b}
    return gossip, delivery, cluster


def flows(plan: Plan) -> list[Flow]:
    """Every allowed flow of ``plan``, sorted. The single source of :func:`network_policies`
    and :func:`matrix_markdown`. None of them involves the toolbox namespace or opens the
    orderer admin port (see the module docstring). Raises :class:`baas.errors.UsageError` when
    an organisation's namespace clashes with the toolbox's."""
    toolbox_namespace(plan)  # refuses the clash before anything is generated
    by_name = {o.name: o for o in plan.orgs}
    cc_orgs = _chaincode_orgs(plan)
    out: list[Flow] = [
        Flow(
            _any_pod(o.namespace),
            _DNS,
            (Port(53, "TCP"), Port(53, "UDP")),
            "DNS",
            None,
            "allow-dns",
        )
        for o in plan.orgs
    ]
    for org in plan.orgs:
        out += _same_org_flows(org, runs_chaincode=org.name in cc_orgs)
        out += _monitoring_flows(org)
    gossip, delivery, cluster = _cross_org_pairs(plan)
    kinds = (
        (
            gossip,
            COMPONENT_PEER,
            COMPONENT_PEER,
            PORTS.peer,
            "gossip, endorsement",
            "peer-gossip-{src}",
            "peer-gossip-{dst}",
        ),
        (
            delivery,
            COMPONENT_PEER,
            COMPONENT_ORDERER,
            PORTS.orderer,
            "broadcast, deliver",
            "orderer-from-peers-{src}",
            "peer-to-orderers-{dst}",
        ),
        (
            cluster,
            COMPONENT_ORDERER,
            COMPONENT_ORDERER,
            PORTS.orderer_cluster,
            "orderer cluster",
            "orderer-cluster-{src}",
            "orderer-cluster-{dst}",
        ),
    )
    for pairs, src_component, dst_component, port, purpose, ingress, egress in kinds:
        out += [
            Flow(
                _pods(by_name[src].namespace, src_component),
                _pods(by_name[dst].namespace, dst_component),
                _tcp(port),
                purpose,
                ingress.format(src=src, dst=dst),
                egress.format(src=src, dst=dst),
            )
            for src, dst in pairs
        ]
    _check_admin_port_closed(out)
    return sorted(
        out,
        key=lambda f: (
            f.src,
            f.dst,
            f.ports,
            f.purpose,
            f.ingress_policy or "",
            f.egress_policy or "",
        ),
    )


def _metadata(plan: Plan, name: str, namespace: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "labels": {LABEL_MANAGED_BY: MANAGED_BY, LABEL_NETWORK: plan.network},
    }


def _policy(
    plan: Plan,
    *,
    name: str,
    namespace: str,
    pod_selector: dict[str, Any],
    ingress: list[dict[str, Any]],
    egress: list[dict[str, Any]],
) -> dict[str, Any]:
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules]
    spec: dict[str, Any] = {"podSelector": pod_selector, "policyTypes": types}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata(plan, name, namespace),
        "spec": spec,
    }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _rules(
    pairs: Iterable[tuple[dict[str, Any], tuple[Port, ...]]], key: str
) -> list[dict[str, Any]]:
    """One rule per distinct peer (ports merged), sorted."""
    ports: dict[str, set[Port]] = {}
    peers: dict[str, dict[str, Any]] = {}
    for peer, flow_ports in pairs:
        k = _canonical(peer)
        peers[k] = peer
        ports.setdefault(k, set()).update(flow_ports)
    rules = [{key: [peers[k]], "ports": [p.manifest() for p in sorted(ports[k])]} for k in ports]
    return sorted(rules, key=_canonical)


@dataclass
class _Draft:
    pod_selector: dict[str, Any]
    ingress: list[tuple[dict[str, Any], tuple[Port, ...]]]
    egress: list[tuple[dict[str, Any], tuple[Port, ...]]]


def _draft(
    drafts: dict[tuple[str, str], _Draft], namespace: str, name: str, selected: Endpoint
) -> _Draft:
    draft = drafts.setdefault((namespace, name), _Draft(selected.pod_selector(), [], []))
    if draft.pod_selector != selected.pod_selector():  # a bug in this module, not user input
        raise AssertionError(f"policy {namespace}/{name} selects two different pod sets")
    return draft


def network_policies(plan: Plan) -> list[dict[str, Any]]:
    """The NetworkPolicy objects of ``plan``, sorted by (namespace, name): ``default-deny``
    (ingress and egress, every pod) in each baas namespace (the toolbox's included, where it is
    the only policy), then, in organisation namespaces, one policy per relationship, e.g.
    ``allow-dns``, ``same-org-peer``, ``peer-to-orderers-<org>``, ``orderer-from-peers-<org>``,
    ``peer-gossip-<org>``, ``orderer-cluster-<org>``, ``orderer-from-monitoring``.
    Raises :class:`baas.errors.UsageError` on a namespace clash (see :func:`toolbox_namespace`)."""
    drafts: dict[tuple[str, str], _Draft] = {}
    for flow in flows(plan):
        if flow.ingress_policy is not None and flow.dst.managed and flow.dst.namespace:
            ns = flow.dst.namespace
            _draft(drafts, ns, flow.ingress_policy, flow.dst).ingress.append(
                (flow.src.peer(ns), flow.ports)
            )
        if flow.egress_policy is not None and flow.src.managed and flow.src.namespace:
            ns = flow.src.namespace
            _draft(drafts, ns, flow.egress_policy, flow.src).egress.append(
                (flow.dst.peer(ns), flow.ports)
            )
    out = [
        _policy(
            plan,
            name=DEFAULT_DENY,
            namespace=ns["metadata"]["name"],
            pod_selector={},
            ingress=[],
            egress=[],
        )
        for ns in namespace_manifests(plan)
    ]
    for deny in out:
        deny["spec"]["policyTypes"] = ["Ingress", "Egress"]
    out += [
        _policy(
            plan,
            name=name,
            namespace=ns,
            pod_selector=d.pod_selector,
            ingress=_rules(d.ingress, "from"),
            egress=_rules(d.egress, "to"),
        )
        for (ns, name), d in drafts.items()
    ]
    return sorted(out, key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))


def retired_network_policies(plan: Plan) -> list[dict[str, Any]]:
    """NetworkPolicies earlier baas releases wrote for the retired toolbox admin Jobs, as
    deletion stubs (``apiVersion``, ``kind``, ``metadata.name``/``namespace``) sorted like
    :func:`network_policies`: ``peer-from-toolbox`` and ``orderer-from-toolbox`` in every
    organisation namespace, ``allow-dns`` and ``toolbox-to-<org>`` in the toolbox. None of them
    is ever in :func:`network_policies` again; a cluster deployed before keeps them (and with them
    the toolbox's access to 7051/7050/7053) until they are deleted, so ``up`` must delete them.
    Stubs of policies a given cluster never had are harmless to delete (reported absent)."""
    toolbox = toolbox_namespace(plan)
    keys = [(o.namespace, f"{c}-from-toolbox") for o in plan.orgs for c in ("peer", "orderer")]
    keys += [(toolbox, "allow-dns"), *((toolbox, f"toolbox-to-{o.name}") for o in plan.orgs)]
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns},
        }
        for ns, name in sorted(keys)
    ]


def matrix_markdown(plan: Plan) -> str:
    """The reachability matrix of ``plan`` as a Markdown table (From, To, Ports, Purpose), one
    row per allowed flow, ending with a newline. Anything not listed is denied."""
    lines = ["| From | To | Ports | Purpose |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {f.src.title} | {f.dst.title} | {', '.join(str(p) for p in f.ports)} | {f.purpose} |"
        for f in flows(plan)
    ]
    return "\n".join(lines) + "\n"


def vault_egress_target(vault_addr: str) -> tuple[dict[str, Any], int]:
    """The NetworkPolicyPeer and port of the Vault server at ``vault_addr``.

    An in-cluster address (``http://vault.vault.svc:8200``, ``...svc.cluster.local``) selects the
    namespace named in it; an IP address becomes an ``ipBlock`` of that single address. Any other
    host name cannot be expressed in a NetworkPolicy: :class:`UsageError` says what to pass."""
    parts = urlsplit(vault_addr if "://" in vault_addr else f"https://{vault_addr}")
    host = parts.hostname or ""
    port = parts.port or (8200 if parts.scheme in ("http", "https") else 443)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        if len(labels) >= 3 and labels[2] == "svc":
            return {"namespaceSelector": {"matchLabels": {LABEL_NAMESPACE_NAME: labels[1]}}}, port
        raise UsageError(
            f"cannot allow egress to Vault at {vault_addr!r}: NetworkPolicies need an IP address "
            "or an in-cluster service name",
            hint="set VAULT_ADDR to http(s)://<svc>.<namespace>.svc:<port> or to an IP address",
        ) from None
    suffix = 32 if ip.version == 4 else 128
    return {"ipBlock": {"cidr": f"{ip}/{suffix}"}}, port


def vault_egress_policies(plan: Plan, *, vault_addr: str) -> list[dict[str, Any]]:
    """``allow-vault``: egress from every pod of each organisation namespace to Vault (the Vault
    Agent sidecars log in and read key material there). Only for ``secrets: vault``."""
    peer, port = vault_egress_target(vault_addr)
    return [
        _policy(
            plan,
            name="allow-vault",
            namespace=org.namespace,
            pod_selector={},
            ingress=[],
            egress=[{"to": [peer], "ports": [Port(port).manifest()]}],
        )
        for org in sorted(plan.orgs, key=lambda o: o.namespace)
    ]
