"""baas.runtimes.local.nodes: node programs (pure), and real orderers and peers from Fabric's
own binaries, supervised on 127.0.0.1.

The ``fabric``-marked tests are skipped (saying how to provide them) when the pinned release's
binaries are absent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import baas.plan
import pki
import topology
from baas.errors import OperationError
from baas.nodeconfig import LOCAL, Tunables
from baas.plan import Plan
from baas.runtimes.local import nodes
from baas.runtimes.local.nodes import NodeStatus, ensure_nodes, node_status, program_name
from baas.runtimes.local.ports import LocalAddresses, ensure_ports, port_is_free
from baas.runtimes.local.supervision import ProgramChange, Supervisor
from tests.support.fabric import fabric_install_or_skip

pytestmark = pytest.mark.timeout(600)

WAIT_S = 120.0  # bounds every wait so a broken node fails the test instead of hanging it

TOPOLOGY = """
apiVersion: baas/v1alpha1
kind: Network
metadata: {name: %(name)s}
spec:
  fabric: {version: "%(line)s"}
  domain: example.com
  organizations:
    - {name: ord, mspId: OrdMSP, orderers: [{name: orderer0}]}
    - name: org1
      mspId: Org1MSP
      peers: [%(peers)s]
  channels:
    - {name: ch, organizations: [org1], orderers: [ord]}
"""

TWO_PEERS = "{name: peer0, anchor: true}, {name: peer1}"
THREE_PEERS = TWO_PEERS + ", {name: peer2}"


@dataclass
class Net:
    plan: Plan
    install: nodes.Install
    crypto: Path
    state: Path
    reports: list[str]

    def addresses(self) -> LocalAddresses:
        return ensure_ports(self.plan, self.state).addresses

    def ensure(self, tunables: Tunables = LOCAL) -> nodes.NodesResult:
        return ensure_nodes(
            self.plan,
            crypto_root=self.crypto,
            install=self.install,
            state_dir=self.state,
            addresses=self.addresses(),
            tunables=tunables,
            report=self.reports.append,
            timeout=WAIT_S,
        )

    def status(self) -> dict[str, NodeStatus]:
        return {s.name: s for s in node_status(self.plan, state_dir=self.state)}


def make_plan(name: str, line: str, peers: str = TWO_PEERS) -> Plan:
    network, _ = topology.loads(TOPOLOGY % {"name": name, "line": line, "peers": peers})
    return baas.plan.build(network)


def with_pki(plan: Plan, crypto: Path) -> None:
    pki.generate(crypto, baas.plan.pki_org_specs_from_plan(plan), plan.pki)


def our_processes(install: nodes.Install, state: Path) -> list[int]:
    """Pids of peer/orderer processes of this network (their cwd is under ``state``): other
    tests may run the same binaries at the same time."""
    binaries = {str((install.bin_dir / b).resolve()) for b in ("peer", "orderer")}
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            exe = os.readlink(entry / "exe")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if exe in binaries and cwd.startswith(str(state)):
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie waiting for init to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def wait_for(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


@contextlib.contextmanager
def network(tmp_path: Path, release: str) -> Iterator[Net]:
    """A two-peer network of ``release`` (PKI generated, nothing started); afterwards the
    supervisor is shut down and no node of it may remain."""
    install = fabric_install_or_skip(release)
    line = ".".join(release.split(".")[:2])
    plan = make_plan(f"nodes{line.replace('.', '')}", line)
    crypto, state = tmp_path / "crypto", tmp_path / "state"
    with_pki(plan, crypto)
    net = Net(plan, install, crypto, state, [])
    try:
        yield net
    finally:
        Supervisor(state).shutdown()
        left = our_processes(install, state)
        for pid in left:  # never leave a node behind, even when the test failed
            os.kill(pid, signal.SIGKILL)
        assert not left, f"nodes left running after shutdown: {left}"


@pytest.fixture(params=["2.5.16", "3.1.5"])
def net(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Net]:
    with network(tmp_path, request.param) as net:
        yield net


@pytest.fixture
def net25(tmp_path: Path) -> Iterator[Net]:
    with network(tmp_path, "2.5.16") as net:
        yield net


@dataclass(frozen=True)
class FakeInstall:
    """An install whose binaries are never run (the tests stop before starting nodes)."""

    release: str
    bin_dir: Path
    config_dir: Path
    builders_dir: Path


@pytest.fixture
def fake(tmp_path: Path) -> Net:
    config = tmp_path / "release" / "config"
    config.mkdir(parents=True)
    (config / "core.yaml").write_text("vm:\n  endpoint: unix:///var/run/docker.sock\n")
    (config / "orderer.yaml").write_text("General: {}\n")
    release = tmp_path / "release"
    install = FakeInstall("2.5.16", release / "bin", config, release / "builders" / "ccaas")
    plan = make_plan("fakenet", "2.5")
    return Net(plan, install, tmp_path / "crypto", tmp_path / "state", [])


def pids(net: Net) -> dict[str, int | None]:
    return {name: s.pid for name, s in net.status().items()}


@pytest.mark.fabric
def test_nodes_come_up_converge_and_survive_sigkill(net: Net) -> None:
    plan = net.plan
    first = net.ensure()
    names = nodes.program_names(plan)
    assert sorted(c.name for c in first.changes) == sorted(names)
    assert {c.action for c in first.changes} == {"started"}
    assert first.config_written == ("core.yaml", "orderer.yaml")
    assert any(r.startswith("started 3 nodes") for r in net.reports)
    wait_for(
        "node_status to see every node healthy",
        lambda: all(s.healthy for s in net.status().values()),
    )
    status = net.status()
    assert all(s.state in ("STARTING", "RUNNING") for s in status.values()), status
    assert len(our_processes(net.install, net.state)) == 3
    peer0 = plan.org("org1").peers[0]
    assert set(status[peer0.fqdn].ports) == {"peer", "peer_chaincode", "operations"}
    config = net.state / "config" / net.install.release / "core.yaml"
    assert "endpoint: ''" in config.read_text()

    # a second ensure changes nothing and touches no process
    before = pids(net)
    net.reports.clear()
    again = net.ensure()
    assert not again.changed
    assert sorted(again.running) == sorted(status)
    assert pids(net) == before
    assert "3 nodes already running" in net.reports

    # a peer killed with SIGKILL comes back (supervisord restarts it) and is healthy again
    victim = before[peer0.fqdn]
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    wait_for(
        "the killed peer to be back and healthy",
        lambda: (s := net.status()[peer0.fqdn]).pid not in (None, victim) and bool(s.healthy),
    )
    after = pids(net)
    others = [n for n in before if n != peer0.fqdn]
    assert {n: after[n] for n in others} == {n: before[n] for n in others}

    # shutdown: no node, no supervisor, every port free again
    daemon = Supervisor(net.state).daemon_pid()
    assert Supervisor(net.state).shutdown()
    assert our_processes(net.install, net.state) == []
    assert daemon is not None and not alive(daemon)
    table = net.addresses()
    assert all(port_is_free(lis.port) for lis in table.listeners(plan))
    assert {s.state for s in net.status().values()} == {"ABSENT"}


@pytest.mark.fabric
def test_adding_a_peer_restarts_only_the_nodes_whose_config_changed(net: Net) -> None:
    net.ensure()
    before = pids(net)
    grown = make_plan(net.plan.network, net.plan.fabric_version, THREE_PEERS)
    with_pki(grown, net.crypto)
    net.plan = grown
    result = net.ensure()
    org1 = grown.org("org1").peers
    # peer0 and peer1 bootstrap gossip from their org's peers: the new one changes their env
    assert sorted(result.changes, key=lambda c: c.name) == [
        ProgramChange(program_name(org1[0]), "restarted"),
        ProgramChange(program_name(org1[1]), "restarted"),
        ProgramChange(program_name(org1[2]), "added"),
    ]
    orderer = grown.org("ord").orderers[0].fqdn
    assert result.running == (orderer,)
    after = pids(net)
    assert after[orderer] == before[orderer]
    assert all(after[p.fqdn] != before.get(p.fqdn) for p in org1)
    # healthy right after ensure; a probe may still time out on a loaded machine, so poll
    wait_for("every node healthy", lambda: all(s.healthy for s in net.status().values()))


@pytest.mark.fabric
def test_a_node_that_dies_at_start_is_reported_with_its_log(net25: Net) -> None:
    net = net25
    orderer = net.plan.org("ord").orderers[0]
    signcerts = next(net.crypto.rglob(f"orderers/{orderer.fqdn}/msp/signcerts"))
    for cert in signcerts.iterdir():
        cert.unlink()  # the orderer cannot load its signing identity
    with pytest.raises(OperationError) as err:
        net.ensure()
    message = err.value.message
    assert f"{orderer.fqdn} (orderer) died while starting" in message
    log = net.state / "logs" / f"{program_name(orderer)}.log"
    assert str(log) in err.value.hint
    assert log.read_text().strip()
    assert message.count("\n") >= 2  # the end of its log is in the message
    assert "PRIVATE KEY" not in message


# ------------------------------------------------------------------------------ no Fabric needed


def test_node_programs_are_pure_data(fake: Net) -> None:
    programs = nodes.node_programs(
        fake.plan,
        crypto_root=fake.crypto,
        install=fake.install,
        state_dir=fake.state,
        addresses=fake.addresses(),
        tunables=LOCAL,
    )
    assert not fake.state.joinpath("supervisor").exists()  # deciding starts nothing
    by_fqdn = {p.node.fqdn: p.spec for p in programs}
    assert list(by_fqdn) == [
        "orderer0.ord.example.com",
        "peer0.org1.example.com",
        "peer1.org1.example.com",
    ]
    orderer, peer = by_fqdn["orderer0.ord.example.com"], by_fqdn["peer0.org1.example.com"]
    assert orderer.name == "orderer0_ord_example_com"
    assert orderer.argv == (str(fake.install.bin_dir / "orderer"),)
    assert peer.argv == (str(fake.install.bin_dir / "peer"), "node", "start")
    assert peer.cwd == fake.state / "data" / "peer0.org1.example.com"
    assert peer.log_file == fake.state / "logs" / "peer0_org1_example_com.log"
    assert peer.env["FABRIC_CFG_PATH"] == str(fake.state / "config" / "2.5.16")
    assert peer.env["CORE_PEER_FILESYSTEMPATH"] == str(peer.cwd)
    assert peer.env["CORE_PEER_MSPCONFIGPATH"].startswith(
        str(fake.crypto / "peerOrganizations" / "org1.example.com" / "peers")
    )
    assert orderer.env["ORDERER_GENERAL_LOCALMSPDIR"].startswith(
        str(fake.crypto / "ordererOrganizations" / "ord.example.com" / "orderers")
    )
    assert all(os.path.isabs(v) for k, v in peer.env.items() if k.endswith(("_FILE", "PATH")))


def test_missing_pki_is_reported_before_anything_starts(fake: Net) -> None:
    with pytest.raises(OperationError, match="crypto material is missing") as err:
        fake.ensure()
    assert "baas pki generate" in err.value.hint
    assert not Supervisor(fake.state).answers()


def test_a_port_taken_by_another_process_is_named_before_anything_starts(fake: Net) -> None:
    with_pki(fake.plan, fake.crypto)
    peer1 = fake.plan.org("org1").peers[1]
    port = fake.addresses().peer(peer1).port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", port))
        held.listen()
        with pytest.raises(OperationError) as err:
            fake.ensure()
    assert f"port {port} (peer1.org1.example.com peer) is in use by another process" in (
        err.value.message
    )
    assert not Supervisor(fake.state).answers()


def test_log_excerpt_stops_at_a_go_panic_and_drops_colours() -> None:
    lines = [f"line {i}" for i in range(30)]
    assert nodes.log_excerpt(lines) == lines[-20:]
    panicking = [*lines, "\x1b[35mPANI\x1b[0m boom", "panic: boom", "", "goroutine 1 [running]:"]
    excerpt = nodes.log_excerpt(panicking, 3)
    assert excerpt == ["line 29", "PANI boom", "panic: boom"]
    assert nodes.log_excerpt([]) == []
