"""Property-based tests: randomly generated VALID topologies validate, and survive
``Network.dump()`` → YAML text → :func:`topology.loads` unchanged."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topology
from baas import plan as planning

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def _label(max_len: int) -> st.SearchStrategy[str]:
    """DNS-1123 labels of at most ``max_len`` characters."""
    inner = st.text(_ALNUM + "-", max_size=max(0, max_len - 2))
    edge = st.sampled_from(_ALNUM)
    single = edge
    multi = st.tuples(edge, inner, edge).map("".join)
    return st.one_of(single, multi).filter(lambda s: len(s) <= max_len)


_channel_name = st.tuples(
    st.sampled_from("abcdefghijklmnopqrstuvwxyz"), st.text(_ALNUM + ".-", max_size=20)
).map("".join)
_chaincode_name = st.lists(
    st.text(_ALNUM + "ABCXYZ", min_size=1, max_size=6), min_size=1, max_size=3
).flatmap(lambda parts: st.sampled_from(["-", "_"]).map(lambda sep: sep.join(parts)))
_user = st.text(_ALNUM + "ABC", min_size=1, max_size=10).filter(lambda u: u.lower() != "admin")
_version = st.from_regex(r"\A[A-Za-z0-9_.+-]{1,10}\Z")
_domain = st.lists(_label(12), min_size=1, max_size=3).map(".".join)


@st.composite
def _org(draw: st.DrawFn, *, name: str, msp: str, peers: int, orderers: int) -> dict[str, Any]:
    org: dict[str, Any] = {"name": name, "mspId": msp}
    if peers:
        peer_names = draw(st.lists(_label(10), min_size=peers, max_size=peers, unique=True))
        anchors = draw(st.lists(st.booleans(), min_size=peers, max_size=peers))
        org["peers"] = [
            {"name": n, "anchor": a} if draw(st.booleans()) else {"name": n}
            for n, a in zip(peer_names, anchors, strict=True)
        ]
    if orderers:
        taken = {p["name"] for p in org.get("peers", [])}
        orderer_names = draw(
            st.lists(
                _label(10).filter(lambda n: n not in taken),
                min_size=orderers,
                max_size=orderers,
                unique=True,
            )
        )
        org["orderers"] = [{"name": n} for n in orderer_names]
    if peers and draw(st.booleans()):
        # User names ignore case, and must not collide with the org's node names.
        nodes = {n["name"] for n in org.get("peers", []) + org.get("orderers", [])}
        org["users"] = draw(
            st.lists(
                _user.filter(lambda u: u.lower() not in nodes),
                max_size=3,
                unique_by=str.lower,
            )
        )
    return org


def _endorsement(msps: list[str]) -> st.SearchStrategy[str | None]:
    principals = st.lists(
        st.tuples(
            st.sampled_from(msps),
            st.sampled_from(["member", "admin", "client", "peer", "orderer"]),
        ).map(lambda t: f"'{t[0]}.{t[1]}'"),
        min_size=1,
        max_size=4,
    )

    def gate(items: list[str]) -> st.SearchStrategy[str]:
        joined = ", ".join(items)
        return st.one_of(
            st.just(f"AND({joined})"),
            st.just(f"OR({joined})"),
            st.integers(1, len(items)).map(lambda n: f"OutOf({n}, {joined})"),
        )

    return st.one_of(st.none(), principals.flatmap(gate))


@st.composite
def valid_topologies(draw: st.DrawFn) -> dict[str, Any]:
    """A topology obeying every rule: unique names and MSP IDs, channels whose members run
    peers, enough consenters for the consensus, chaincodes on declared channels with policies
    over member MSPs."""
    bft = draw(st.booleans())
    version = "3.1" if bft else draw(st.sampled_from(["2.5", "3.1"]))
    n_peer_orgs = draw(st.integers(1, 3))
    n_orderer_orgs = draw(st.integers(1, 2))
    total = n_peer_orgs + n_orderer_orgs
    org_names = draw(st.lists(_label(12), min_size=total, max_size=total, unique=True))
    msps = draw(
        st.lists(
            st.from_regex(r"\A[A-Za-z][A-Za-z0-9_.-]{0,12}\Z"),
            min_size=total,
            max_size=total,
            unique=True,
        )
    )
    orgs: list[dict[str, Any]] = []
    min_orderers = 4 if bft else 1
    for i, (name, msp) in enumerate(zip(org_names, msps, strict=True)):
        if i < n_peer_orgs:
            # A peer organisation may also run orderers.
            peers, orderers = draw(st.integers(1, 3)), draw(st.sampled_from([0, 0, 1]))
        else:
            peers, orderers = 0, draw(st.integers(min_orderers, min_orderers + 2))
        orgs.append(draw(_org(name=name, msp=msp, peers=peers, orderers=orderers)))
    peer_orgs = [o for o in orgs if o.get("peers")]
    pure_orderer_orgs = [o["name"] for o in orgs[n_peer_orgs:]]

    channel_names = draw(st.lists(_channel_name, min_size=0, max_size=3, unique=True))
    channels: list[dict[str, Any]] = []
    for name in channel_names:
        members = draw(
            st.lists(st.sampled_from(peer_orgs), min_size=1, unique_by=lambda o: o["name"])
        )
        channel: dict[str, Any] = {"name": name, "organizations": [o["name"] for o in members]}
        if draw(st.booleans()):
            # Each pure orderer org alone has enough consenters for the consensus.
            channel["orderers"] = draw(
                st.lists(st.sampled_from(pure_orderer_orgs), min_size=1, unique=True)
            )
        channels.append(channel)

    chaincodes: list[dict[str, Any]] = []
    if channels:
        for name in draw(st.lists(_chaincode_name, max_size=3, unique=True)):
            channel = draw(st.sampled_from(channels))
            member_msps = [o["mspId"] for o in orgs if o["name"] in channel["organizations"]]
            cc: dict[str, Any] = {"name": name, "channel": channel["name"], "path": f"cc/{name}"}
            if draw(st.booleans()):
                cc["version"] = draw(_version)
            if (policy := draw(_endorsement(member_msps))) is not None:
                cc["endorsement"] = policy
            if draw(st.booleans()):
                cc["initRequired"] = draw(st.booleans())
            chaincodes.append(cc)

    spec: dict[str, Any] = {
        "fabric": {"version": version},
        "consensus": "BFT" if bft else "etcdraft",
        "domain": draw(_domain),
        "organizations": orgs,
        "channels": channels,
        "chaincodes": chaincodes,
    }
    # Ed25519 needs Fabric 3.1, and BFT consenters cannot use it (Fabric 3.1.5).
    algorithms = ["P-256", "P-384"] + (["Ed25519"] if version == "3.1" and not bft else [])
    if draw(st.booleans()):
        spec["pki"] = {
            "keyAlgorithm": draw(st.sampled_from(algorithms)),
            "caValidityDays": draw(st.integers(1, 36500)),
            "leafValidityDays": draw(st.integers(1, 36500)),
        }
    metadata: dict[str, Any] = {"name": draw(_label(20))}
    if draw(st.booleans()):
        metadata["description"] = draw(st.text(max_size=30))
        metadata["labels"] = draw(st.dictionaries(_label(8), _label(8), max_size=2))
    return {"apiVersion": "baas/v1alpha1", "kind": "Network", "metadata": metadata, "spec": spec}


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@SETTINGS
@given(valid_topologies())
def test_generated_topologies_validate(document: dict[str, Any]) -> None:
    text = yaml.safe_dump(document, sort_keys=False)
    network, warnings = topology.loads(text, source="generated.yaml", base_dir=None)
    assert all(w.severity == "warning" for w in warnings)
    assert network.metadata.name == document["metadata"]["name"]
    assert [o.msp_id for o in network.spec.organizations] == [
        o["mspId"] for o in document["spec"]["organizations"]
    ]
    # Every validated topology can be planned, and its node names are unique.
    plan = planning.build(network)
    fqdns = [n.fqdn for org in plan.orgs for n in org.nodes]
    assert len(fqdns) == len(set(fqdns))


@SETTINGS
@given(valid_topologies())
def test_dump_yaml_load_round_trip(document: dict[str, Any]) -> None:
    network, _ = topology.loads(yaml.safe_dump(document), base_dir=None)
    dumped = network.dump()
    text = yaml.safe_dump(dumped, sort_keys=False)
    again, warnings = topology.loads(text, source="round-trip.yaml", base_dir=None)
    assert again == network
    assert again.dump() == dumped
    assert all(w.severity == "warning" for w in warnings)
