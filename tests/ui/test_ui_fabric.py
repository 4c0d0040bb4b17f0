"""The console on a real network (marked ``ui`` and ``fabric``; skips without Fabric 2.5.16's
binaries or Chromium): examples/two-orgs.yaml deployed through the API turns all 7 nodes
healthy in the graph; a hung peer (SIGSTOP) turns red, then green again (SIGCONT); a peer
killed with SIGKILL is shown restarted and green; the deployment's screen shows its phases
and steps."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, expect

from tests.api.support import ApiServer, Tokens, read_events, server_env, two_orgs
from tests.support.fabric import fabric_install_or_skip
from tests.ui.conftest import ConsoleServer, Page
from tests.ui.test_ui_accessibility import AXE, violations

pytestmark = [pytest.mark.ui, pytest.mark.fabric, pytest.mark.timeout(900)]

NAME = "ui-live"
CANCELLED = "ui-cancel"
PEER = "peer0.org1.example.com"
UP_TIMEOUT_MS = 30_000
"""How long the page may take to show a state the network has reached."""
RESTART_TIMEOUT_MS = 120_000
"""How long the supervisor may take to restart a killed peer and the peer to answer."""


@pytest.fixture(scope="module")
def console(
    console_built: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """``baas serve`` with Fabric's binaries (overrides the module-wide one of conftest), and
    the module's networks purged at the end."""
    fabric_install_or_skip("2.5.16")
    home = tmp_path_factory.mktemp("ui-fabric")
    url = f"sqlite:///{home / 'api.sqlite3'}"
    server = ApiServer(home=home, database_url=url, env=server_env(home, url, fabric=True))
    db = server.database()
    db.migrate()
    made = Tokens.create(db)
    db.dispose()
    server.start()
    try:
        yield ConsoleServer(server, made)
    finally:
        with server.client(made.admin) as http:
            for name in (NAME, CANCELLED):
                http.delete(f"/api/v1/networks/{name}", params={"purge": "true"})
        server.stop()


@pytest.fixture(scope="module")
def deployed(console: ConsoleServer) -> str:
    """The id of the succeeded ``up`` of the module's network."""
    with console.server.client(console.tokens.admin) as http:
        created = http.post(
            "/api/v1/networks",
            content=two_orgs(NAME),
            headers={"Content-Type": "application/yaml"},
        )
        assert created.status_code == 201, created.text
        started = http.post(f"/api/v1/networks/{NAME}/deployments", json={"action": "up"})
        assert started.status_code == 202, started.text
        job = str(started.json()["id"])
        events = list(read_events(http, job))
        assert events[-1].data["data"]["state"] == "succeeded", events[-1].data
    return job


def sign_in(page: Page, token: str, at: str) -> None:
    page.page.goto(at)
    page.page.get_by_label("API token").fill(token)
    page.page.get_by_role("button", name="Sign in").click()
    expect(page.page).not_to_have_url(re.compile(r"/signin"))


def open_peer(page: Page, console: ConsoleServer) -> Locator:
    """The network's screen with all 7 nodes healthy and :data:`PEER` selected; its button."""
    sign_in(page, console.tokens.viewer, f"/networks/{NAME}")
    graph = page.page.get_by_test_id("graph")
    expect(graph).to_have_attribute("data-healthy", "7", timeout=UP_TIMEOUT_MS)
    expect(page.page.get_by_test_id("running")).to_contain_text("running, 7/7 nodes healthy")
    peer = page.page.locator(f'[data-node="{PEER}"]')
    peer.click()
    expect(page.page.get_by_test_id("panel")).to_contain_text("mychannel: ")  # its height
    return peer


def pid_of(console: ConsoleServer, name: str) -> int:
    with console.server.client(console.tokens.admin) as http:
        status = http.get(f"/api/v1/networks/{NAME}/status").json()
    [node] = [n for n in status["nodes"] if n["name"] == name]
    return int(node["pid"])


def test_a_hung_peer_turns_red_then_green(
    page: Page, console: ConsoleServer, deployed: str
) -> None:
    """A peer frozen with SIGSTOP stays a running process that no longer answers its health
    check: red in the graph until SIGCONT, then green."""
    peer = open_peer(page, console)
    page.shot("network-detail-running")
    pid = pid_of(console, PEER)
    os.kill(pid, signal.SIGSTOP)
    try:
        expect(peer).to_have_attribute("data-health", "unhealthy", timeout=UP_TIMEOUT_MS)
        expect(page.page.get_by_test_id("graph")).not_to_have_attribute("data-unhealthy", "0")
        expect(page.page.get_by_test_id("panel-health")).to_have_text("down")
        page.shot("network-detail-peer-down")
    finally:
        os.kill(pid, signal.SIGCONT)
    expect(peer).to_have_attribute("data-health", "healthy", timeout=RESTART_TIMEOUT_MS)
    expect(page.page.get_by_test_id("graph")).to_have_attribute("data-healthy", "7")


def test_a_killed_peer_is_shown_restarted_and_green(
    page: Page, console: ConsoleServer, deployed: str
) -> None:
    """A peer killed with SIGKILL is restarted by the supervisor (often before the next read
    could see it down): the console shows the restart (a new PID) and the peer green again."""
    peer = open_peer(page, console)
    os.kill(pid_of(console, PEER), signal.SIGKILL)
    expect(peer).to_have_attribute("data-restarts", "1", timeout=RESTART_TIMEOUT_MS)
    expect(page.page.get_by_test_id("panel-restarts")).to_contain_text("1 time(s)")
    expect(peer).to_have_attribute("data-health", "healthy", timeout=RESTART_TIMEOUT_MS)
    expect(page.page.get_by_test_id("graph")).to_have_attribute("data-healthy", "7")
    page.shot("network-detail-peer-restarted")


def test_the_deployment_screen_shows_phases_and_steps(
    page: Page, console: ConsoleServer, deployed: str
) -> None:
    sign_in(page, console.tokens.admin, f"/networks/{NAME}/deployments/{deployed}")
    expect(page.page.get_by_test_id("job-state")).to_contain_text("succeeded")
    phases = page.page.get_by_test_id("phases")
    for phase in ("config", "start", "channel", "chaincode"):
        expect(phases).to_contain_text(phase)
    expect(page.page.get_by_test_id("steps")).to_contain_text("healthy")
    expect(page.page.get_by_role("button", name="Cancel")).to_have_count(0)
    page.shot("deployment-succeeded")


def test_an_up_started_in_the_console_streams_and_cancels(
    page: Page, console: ConsoleServer
) -> None:
    """Deploy (up)… shows the plan (every node to start) and its confirmation opens the
    job's screen, whose step lines arrive from the event stream;
    Cancel stops it at its next step: cancelled, with the step it stopped after and a hint."""
    with console.server.client(console.tokens.admin) as http:
        created = http.post(
            "/api/v1/networks",
            content=two_orgs(CANCELLED),
            headers={"Content-Type": "application/yaml"},
        )
        assert created.status_code == 201, created.text
    sign_in(page, console.tokens.admin, f"/networks/{CANCELLED}")
    page.page.get_by_role("link", name="Deploy (up)…").click()
    expect(page.page.get_by_test_id("plan-changes")).to_contain_text(
        "start orderer0.ordererorg.example.com"
    )
    page.page.get_by_role("button", name="Confirm and deploy (up)").click()
    expect(page.page).to_have_url(re.compile(r"/deployments/dep_[0-9a-f]{16}$"))
    expect(page.page.get_by_test_id("steps").locator("li").first).to_be_visible()
    page.page.get_by_role("button", name="Cancel").click()
    expect(page.page.get_by_test_id("job-state")).to_contain_text(
        "cancelled", timeout=UP_TIMEOUT_MS
    )
    error = page.page.get_by_test_id("job-error")
    expect(error).to_contain_text("It was cancelled")
    expect(error).to_contain_text("the up was cancelled after:")
    page.shot("deployment-cancelled")


SMOKE_TIMEOUT_MS = 300_000
"""How long a smoke run with a 10 s load probe may take (it deploys its probe chaincode)."""


def test_the_chaincodes_screen_shows_the_approvals_matrix(
    page: Page, console: ConsoleServer, deployed: str
) -> None:
    """basic on mychannel: committed, approved by org1 and org2 with a package each org's two
    peers have installed; a viewer gets no Approve button."""
    sign_in(page, console.tokens.viewer, f"/networks/{NAME}/chaincodes")
    matrix = page.page.locator('[data-testid="matrix"][data-chaincode="basic"]')
    expect(matrix).to_contain_text("version 1.0, sequence 1", timeout=UP_TIMEOUT_MS)
    for org in ("org1", "org2"):
        row = matrix.locator(f'tr[data-org="{org}"]')
        expect(row).to_contain_text("approved")
        expect(row).not_to_contain_text("not approved")
        expect(row).to_contain_text("2/2 peers")
        expect(row.locator("td.mono")).to_contain_text("basic_1.0:")
    wanted = page.page.locator('[data-testid="wanted"][data-chaincode="basic"]')
    expect(wanted).to_contain_text("committed")
    expect(wanted).to_contain_text("approved by Org1MSP, Org2MSP")
    expect(page.page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    page.shot("chaincodes")
    if AXE.is_file():  # the screens only a running network fills, checked by axe too
        assert violations(page, AXE.read_text()) == []


def test_a_smoke_run_with_a_load_probe_draws_its_chart(
    page: Page, console: ConsoleServer, deployed: str
) -> None:
    """Run smoke with a 10 s load probe: every check passes with its time, and the probe's
    figures, throughput chart and latency percentiles are shown (also after a reload)."""
    sign_in(page, console.tokens.admin, f"/networks/{NAME}/smoke")
    page.page.get_by_label("with the load probe for").check()
    page.page.get_by_label("Load probe seconds").fill("10")
    page.page.get_by_role("button", name="Run smoke").click()
    expect(page.page.get_by_test_id("smoke-state")).to_contain_text(
        "passed", timeout=SMOKE_TIMEOUT_MS
    )
    checks = page.page.get_by_test_id("checks")
    expect(checks.locator("td.status.passed").first).to_be_visible()
    expect(checks.locator("td.status.failed")).to_have_count(0)
    expect(page.page.get_by_test_id("load-figures")).to_contain_text("tx/s")
    chart = page.page.get_by_test_id("throughput-chart")
    expect(chart).not_to_have_attribute("data-points", "0")
    expect(page.page.get_by_test_id("latency")).to_contain_text("ms")
    page.shot("smoke-load")
    if AXE.is_file():
        assert violations(page, AXE.read_text()) == []
    page.page.reload()
    expect(page.page.get_by_test_id("throughput-chart")).to_be_visible()


def test_renewing_a_peer_shows_the_restart_the_next_up_makes(
    page: Page, console: ConsoleServer, deployed: str
) -> None:
    """Renew peer0.org1's certificates on the certificates screen: the restart plan names the
    peer, and the next up does restart it (a new PID) and brings it back healthy."""
    sign_in(page, console.tokens.admin, f"/networks/{NAME}/certificates")
    page.page.get_by_role("button", name=f"Renew {PEER}").first.click()
    expect(page.page.get_by_test_id("renew-result")).to_contain_text(f"Renewed: {PEER}")
    expect(page.page.get_by_test_id("restart-plan")).to_contain_text(PEER)
    page.shot("certificates-renewed-running")
    before = pid_of(console, PEER)
    with console.server.client(console.tokens.admin) as http:
        started = http.post(f"/api/v1/networks/{NAME}/deployments", json={"action": "up"})
        assert started.status_code == 202, started.text
        events = list(read_events(http, str(started.json()["id"])))
        assert events[-1].data["data"]["state"] == "succeeded", events[-1].data
    assert pid_of(console, PEER) != before
    page.page.goto(f"/networks/{NAME}")
    graph = page.page.get_by_test_id("graph")
    expect(graph).to_have_attribute("data-healthy", "7", timeout=RESTART_TIMEOUT_MS)
