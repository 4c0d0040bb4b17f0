"""``baas smoke`` on real Fabric (marked ``fabric``): green on two-orgs (2.5.16) and bft (3.1.5),
each failure path against real nodes, the JSON shape, and the fault drills — SIGKILL of a Raft
orderer, a BFT orderer and a peer during a load probe, with zero committed transactions lost.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from baas import services
from baas.fabric import deliver
from baas.network.access import NetworkAccess
from baas.runtimes.local import nodes
from baas.runtimes.local.supervision import Supervisor
from baas.smoke import checks
from baas.smoke.load import LoadOptions, LoadResult, run_load
from baas.smoke.report import run_check
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import LocalNet, up_network

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(900)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RECOVERY = 60.0


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _smoke(net: LocalNet) -> dict[str, object]:
    return services.smoke(net.loaded, target="local").to_dict()


def _statuses(report: dict[str, object]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in report["checks"]}  # type: ignore[index, union-attr]


def _green_within(net: LocalNet, seconds: float) -> float:
    """Seconds until smoke is green again (fails the test after ``seconds``)."""
    start = time.monotonic()
    while True:
        report = _smoke(net)
        if report["passed"]:
            return time.monotonic() - start
        if time.monotonic() - start > seconds:
            pytest.fail(f"smoke not green after {seconds}s: {_statuses(report)}")
        time.sleep(1.0)


def _ledger_tx_ids(access: NetworkAccess, node_fqdn: str, channel: str) -> set[str]:
    plan = access.plan
    node = next(n for o in plan.orgs for n in o.peers if n.fqdn == node_fqdn)
    admin = access.admin(plan.org(node.org))
    found: set[str] = set()
    for block in deliver.blocks(
        access.connections, access.peer(node).target, admin, channel=channel, source="peer"
    ):
        found.update(tx for tx, valid in deliver.transactions_of(block) if valid)
    return found


def _pid(net: LocalNet, fqdn: str) -> int:
    state = {n.name: n for n in nodes.node_status(net.plan, state_dir=net.state_dir)}
    pid = state[fqdn].pid
    assert pid, state[fqdn]
    return pid


def _drill(net: LocalNet, victim: str, *, duration: float = 24.0) -> dict[str, float]:
    """Run a load probe, SIGKILL ``victim`` a third of the way in; then check that every
    transaction the probe saw committed is in every member peer's ledger, that throughput
    came back, and that smoke turns green. Returns the figures."""
    assert _smoke(net)["passed"]  # deploys the probe
    channel = net.plan.channels[0]
    outcome: dict[str, LoadResult] = {}
    with net.access() as access:
        worker = threading.Thread(
            target=lambda: outcome.setdefault(
                "load",
                run_load(
                    access,
                    channel,
                    LoadOptions(duration=duration, concurrency=8, commit_timeout=4.0),
                ),
            )
        )
        worker.start()
        time.sleep(duration / 3)
        killed_at = duration / 3
        os.kill(_pid(net, victim), signal.SIGKILL)
        worker.join()
    result = outcome["load"]
    assert result.committed > 0
    # one timeline point a second and a last one (it once held thousands: the progress loop
    # spun once its first worker had ended)
    assert len(result.timeline) <= int(result.seconds) + 1, len(result.timeline)
    recovered = _green_within(net, RECOVERY)
    with net.access() as access:
        for org in (net.plan.org(n) for n in channel.members):
            for peer in org.peers:
                deadline = time.monotonic() + 30
                while True:
                    missing = set(result.committed_tx_ids) - _ledger_tx_ids(
                        access, peer.fqdn, channel.name
                    )
                    if not missing or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                assert not missing, f"{len(missing)} committed tx missing on {peer.fqdn}"
    after = [n for t, n in result.timeline if killed_at + 6 < t <= duration]
    assert len(after) >= 2 and after[-1] > after[0], (
        f"throughput did not recover during the probe: {result.timeline}"
    )
    return {
        "committed": result.committed,
        "tps": result.tps,
        "lost": 0,
        "recovery_s": recovered,
    }


def test_two_orgs_smoke_and_failure_paths(home: Path) -> None:
    install = fabric_install_or_skip("2.5.16")
    with up_network(EXAMPLES / "two-orgs.yaml", install=install) as net:
        report = _smoke(net)
        assert report["kind"] == "SmokeReport" and report["apiVersion"] == "baas/v1alpha1"
        assert report["passed"], _statuses(report)
        assert set(_statuses(report)) == {
            "nodes healthy",
            "channel membership",
            "probe chaincode",
            "heights mychannel",
            "gossip mychannel",
            "endorsement mychannel",
            "weak endorsement mychannel",
            "outsider mychannel",
            "chaincode basic",
        }
        for check in report["checks"]:  # type: ignore[union-attr]
            assert set(check) == {"name", "status", "passed", "seconds", "message", "hint"}
        again = _smoke(net)
        probe = next(c for c in again["checks"] if c["name"] == "probe chaincode")  # type: ignore[union-attr]
        assert "reused" in probe["message"]

        # the endorsement check fails, naming the reason, when an organisation cannot endorse
        supervisor = Supervisor(net.state_dir)
        org2 = net.plan.org("org2")
        for peer in org2.peers:
            supervisor.stop(nodes.program_name(peer))
        with net.access() as access:
            channel = net.plan.channels[0]
            failed = run_check("endorsement", lambda: checks.endorsement(access, channel))
        assert failed.status == "failed", failed
        assert failed.message

        # a stopped peer: "nodes healthy" names it, and the checks that need nodes are skipped
        report = _smoke(net)
        assert not report["passed"]
        healthy = next(c for c in report["checks"] if c["name"] == "nodes healthy")  # type: ignore[union-attr]
        assert "peer0.org2.example.com" in healthy["message"]
        assert _statuses(report)["probe chaincode"] == "skipped"
        net.up()
        assert _smoke(net)["passed"]


def test_bft_smoke_on_3_1(home: Path) -> None:
    install = fabric_install_or_skip("3.1.5")
    with up_network(EXAMPLES / "bft.yaml", install=install) as net:
        report = _smoke(net)
        assert report["passed"], _statuses(report)


def test_single_org_smoke_skips_what_does_not_apply(home: Path) -> None:
    install = fabric_install_or_skip("2.5.16")
    with up_network(EXAMPLES / "minimal.yaml", install=install) as net:
        report = _smoke(net)
        assert report["passed"], _statuses(report)
        statuses = _statuses(report)
        assert statuses["weak endorsement mychannel"] == "skipped"
        assert statuses["outsider mychannel"] == "skipped"


def test_drill_raft_orderer_killed(home: Path) -> None:
    install = fabric_install_or_skip("2.5.16")
    with up_network(EXAMPLES / "two-orgs.yaml", install=install) as net:
        _drill(net, "orderer1.ordererorg.example.com")


def test_drill_peer_killed(home: Path) -> None:
    install = fabric_install_or_skip("2.5.16")
    with up_network(EXAMPLES / "two-orgs.yaml", install=install) as net:
        _drill(net, "peer1.org1.example.com")


def test_drill_bft_orderer_killed(home: Path) -> None:
    install = fabric_install_or_skip("3.1.5")
    with up_network(EXAMPLES / "bft.yaml", install=install) as net:
        _drill(net, "orderer2.ordererorg.example.com")
