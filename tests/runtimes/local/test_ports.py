"""baas.runtimes.local.ports: allocation once per network, persistence, in-use detection."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import topology
from baas.errors import OperationError
from baas.plan import Plan, build
from baas.runtimes.local.ports import (
    PORT_RANGE,
    LocalAddresses,
    allocate,
    base_port,
    busy_listeners,
    chaincode_key,
    check_free,
    ensure_ports,
    load_addresses,
    port_is_free,
    ports_path,
)

TOPOLOGY = """
apiVersion: baas/v1alpha1
kind: Network
metadata: {name: %(name)s}
spec:
  domain: example.com
  organizations:
    - {name: ord, mspId: OrdMSP, orderers: [{name: orderer0}]}
    - name: org1
      mspId: Org1MSP
      peers: [%(org1_peers)s]
    - {name: org2, mspId: Org2MSP, peers: [{name: peer0}]}
    - {name: org3, mspId: Org3MSP, peers: [{name: peer0}]}
  channels:
    - {name: ch, organizations: [org1, org2], orderers: [ord]}
    - {name: other, organizations: [org3], orderers: [ord]}
  chaincodes:
    - {name: basic, channel: ch, version: "1.0", path: cc}
"""


def make_plan(name: str = "portnet", org1_peers: str = "{name: peer0}, {name: peer1}") -> Plan:
    network, _ = topology.loads(TOPOLOGY % {"name": name, "org1_peers": org1_peers})
    return build(network)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "networks" / "portnet"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket listening on 127.0.0.1 — 'another process' holding a port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock
    sock.close()


def all_ports(table: LocalAddresses) -> list[int]:
    return [p for ports in table.nodes.values() for p in ports.values()] + list(
        table.chaincodes.values()
    )


def test_every_listener_gets_a_distinct_port_in_range(state: Path) -> None:
    plan = make_plan()
    table = ensure_ports(plan, state).addresses
    ports = all_ports(table)
    assert len(ports) == len(set(ports)) == 4 + 4 * 3 + 2  # orderer, 4 peers, 2 cc servers
    assert all(p in PORT_RANGE for p in ports)
    peer0 = plan.org("org1").peers[0]
    assert set(table.nodes[peer0.fqdn]) == {"peer", "peer_chaincode", "operations"}
    orderer = plan.org("ord").orderers[0]
    assert set(table.nodes[orderer.fqdn]) == {"orderer", "cluster", "admin", "operations"}
    assert table.listen_host == "127.0.0.1"
    assert table.peer(peer0).host == "127.0.0.1"


def test_each_version_has_its_own_port_and_earlier_ones_are_kept(state: Path) -> None:
    """1.1 gets new ports beside 1.0's (the previous servers serve on theirs until the
    switch; a rollback finds them again); a chaincode gone from the plan loses every
    version's port; a key of the unversioned format is dropped."""
    plan = make_plan()
    first = ensure_ports(plan, state).addresses
    org1 = plan.org("org1")
    old = first.chaincode(org1, plan.chaincodes[0])
    upgraded = dataclasses.replace(
        plan, chaincodes=(dataclasses.replace(plan.chaincodes[0], version="1.1"),)
    )
    second = ensure_ports(upgraded, state).addresses
    assert second.chaincode(org1, upgraded.chaincodes[0]) != old
    assert second.chaincodes["org1/ch/basic@1.0"] == old.port
    back = ensure_ports(plan, state).addresses
    assert back.chaincode(org1, plan.chaincodes[0]) == old
    assert "org1/ch/basic@1.1" in back.chaincodes
    gone = ensure_ports(dataclasses.replace(plan, chaincodes=()), state).addresses
    assert gone.chaincodes == {}
    legacy = dataclasses.replace(back, chaincodes={**back.chaincodes, "org1/ch/basic": 20999})
    kept = allocate(plan, legacy)
    assert "org1/ch/basic" not in kept.chaincodes


def test_chaincode_servers_per_member_org_with_peers(state: Path) -> None:
    plan = make_plan()
    table = ensure_ports(plan, state).addresses
    assert set(table.chaincodes) == {
        chaincode_key("org1", "ch", "basic", "1.0"),
        "org2/ch/basic@1.0",
    }
    cc = plan.chaincodes[0]
    assert table.chaincode(plan.org("org1"), cc) != table.chaincode(plan.org("org2"), cc)
    assert table.has_chaincode(plan.org("org1"), cc)
    assert not table.has_chaincode(plan.org("org3"), cc)
    with pytest.raises(OperationError, match="no port allocated for chaincode basic of org3"):
        table.chaincode(plan.org("org3"), cc)


def test_ports_are_persisted_and_stable(state: Path) -> None:
    plan = make_plan()
    first = ensure_ports(plan, state)
    assert first.changed and first.allocated
    text = ports_path(state).read_text()
    again = ensure_ports(plan, state)
    assert not again.changed
    assert again.addresses == first.addresses == load_addresses(state)
    assert ports_path(state).read_text() == text
    data = json.loads(text)
    assert data["version"] == 1 and data["host"] == "127.0.0.1"


def test_allocation_starts_at_the_networks_hashed_base(state: Path) -> None:
    plan = make_plan()
    table = allocate(plan, LocalAddresses())
    assert min(all_ports(table)) == base_port("portnet")
    assert base_port("portnet") == base_port("portnet") != base_port("othernet")
    assert base_port("portnet") % 10 == 0


def test_adding_a_node_allocates_only_its_ports(state: Path) -> None:
    before = ensure_ports(make_plan(), state).addresses
    grown = make_plan(org1_peers="{name: peer0}, {name: peer1}, {name: peer2}")
    result = ensure_ports(grown, state)
    assert {lis.owner for lis in result.allocated} == {"peer2.org1.example.com"}
    assert len(result.allocated) == 3
    after = result.addresses
    for owner, ports in before.nodes.items():
        assert after.nodes[owner] == ports
    assert after.chaincodes == before.chaincodes
    assert not set(after.nodes["peer2.org1.example.com"].values()) & set(all_ports(before))


def test_removed_nodes_are_dropped(state: Path) -> None:
    ensure_ports(make_plan(), state)
    shrunk = make_plan(org1_peers="{name: peer0}")
    result = ensure_ports(shrunk, state)
    assert result.dropped == ("peer1.org1.example.com",)
    assert not result.allocated
    assert "peer1.org1.example.com" not in load_addresses(state).nodes


def test_ports_currently_bound_are_skipped(state: Path) -> None:
    plan = make_plan()
    base = base_port(plan.network)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        # when someone else holds it already, the allocator must skip it just the same
        with contextlib.suppress(OSError):
            held.bind(("127.0.0.1", base))
        held.listen()
        assert not port_is_free(base)
        table = ensure_ports(plan, state).addresses
    assert base not in all_ports(table)


def test_other_networks_ports_are_avoided(tmp_path: Path) -> None:
    plan = make_plan()
    mine = allocate(plan, LocalAddresses())
    other = tmp_path / "networks" / "neighbour"
    other.mkdir(parents=True)
    ports_path(other).write_text(json.dumps(mine.to_dict()))  # a neighbour holds our choices
    table = ensure_ports(plan, tmp_path / "networks" / "portnet").addresses
    assert not set(all_ports(table)) & set(all_ports(mine))


def test_check_free_names_port_and_node(state: Path, listener: socket.socket) -> None:
    plan = make_plan()
    table = ensure_ports(plan, state).addresses
    node = plan.org("org1").peers[0]
    held = listener.getsockname()[1]
    ports = dict(table.nodes)
    ports[node.fqdn] = {**ports[node.fqdn], "peer": held}
    table = LocalAddresses(nodes=ports, chaincodes=table.chaincodes)
    with pytest.raises(OperationError) as err:
        check_free(table, plan)
    assert (
        f"port {held} (peer0.org1.example.com peer) is in use by another process"
        in err.value.message
    )
    assert err.value.hint
    assert [lis.owner for lis in busy_listeners(table, plan)] == [node.fqdn]
    check_free(table, plan, owners=["peer1.org1.example.com"])  # a running node is not checked
    check_free(table, plan, owners=[])


def test_check_free_names_chaincode_servers(state: Path, listener: socket.socket) -> None:
    plan = make_plan()
    table = ensure_ports(plan, state).addresses
    held = listener.getsockname()[1]
    table = LocalAddresses(
        nodes=table.nodes, chaincodes={**table.chaincodes, "org2/ch/basic@1.0": held}
    )
    with pytest.raises(
        OperationError, match=f"port {held} \\(chaincode basic 1.0 of org2 on channel ch\\)"
    ):
        check_free(table, plan)


def test_unknown_node_and_bad_file(state: Path) -> None:
    plan = make_plan()
    empty = LocalAddresses()
    with pytest.raises(OperationError, match="no peer port allocated"):
        empty.peer(plan.org("org1").peers[0])
    state.mkdir(parents=True)
    ports_path(state).write_text("{not json")
    with pytest.raises(OperationError, match="not a port table"):
        load_addresses(state)
    ports_path(state).write_text(json.dumps({"version": 1, "nodes": {"x": {"peer": 99999}}}))
    with pytest.raises(OperationError):
        ensure_ports(plan, state)
    assert load_addresses(state / "missing") == LocalAddresses()
