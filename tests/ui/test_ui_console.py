"""The web console in a real Chromium against a real ``baas serve``: sign in and out, the
networks list, a network's detail screen with its topology graph, deep links, the 401 and
403 states and a deployment's progress. Networks are created through the REST API (no Fabric
binaries needed: an ``up`` fails in its preflight, which the deployment screen shows)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.api.support import two_orgs
from tests.ui.conftest import ConsoleServer, Page

pytestmark = pytest.mark.ui

YAML = {"Content-Type": "application/yaml"}
REFUSED_LOAD = r"Failed to load resource: the server responded with a status of 40[13]"
"""Chromium's own console line for a response it got with a 401 or 403 (the API's answer to
a refused token, which the console then shows): expected in the tests that provoke one."""


def create(console: ConsoleServer, text: str) -> str:
    """Create the network of topology ``text`` through the API (once per server); its name."""
    with console.server.client(console.tokens.admin) as http:
        response = http.post("/api/v1/networks", content=text, headers=YAML)
        assert response.status_code in (201, 409), response.text
        name = re.search(r"^  name: (\S+)$", text, re.MULTILINE)
        assert name is not None
        return name.group(1)


def sign_in(page: Page, token: str, *, at: str = "/") -> None:
    page.page.goto(at)
    expect(page.page).to_have_title("Sign in · baas console")
    page.page.get_by_label("API token").fill(token)
    page.page.get_by_role("button", name="Sign in").click()
    expect(page.page).not_to_have_url(re.compile(r"/signin"))


def stored_token(page: Page) -> str | None:
    value = page.page.evaluate("() => sessionStorage.getItem('baas.token')")
    assert value is None or isinstance(value, str)
    return value


def test_the_console_is_served_with_the_api_policy(console: ConsoleServer) -> None:
    """``/`` and a deep link are the app's page, under the API's Content-Security-Policy
    (nothing inline); the API's own 404 is unchanged."""
    with console.server.client() as http:
        for path in ("/", "/networks/anything"):
            response = http.get(path)
            assert response.status_code == 200
            assert '<div id="app">' in response.text
            assert "<script>" not in response.text and "style=" not in response.text
            policy = response.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert http.get("/api/v1/nothing-here").json()["code"] == "not-found"


def test_a_bad_token_is_refused_with_a_message(page: Page) -> None:
    page.log.expect(REFUSED_LOAD)
    page.page.goto("/")
    expect(page.page).to_have_url(re.compile(r"/signin\?next=%2F"))
    page.page.get_by_label("API token").fill("baas_not-a-real-token")
    page.page.get_by_role("button", name="Sign in").click()
    alert = page.page.get_by_test_id("signin-error")
    expect(alert).to_contain_text("refused this token")
    expect(alert).to_contain_text("baas token create")
    assert stored_token(page) is None
    page.shot("signin-refused")


def test_a_good_token_shows_the_networks_list(page: Page, console: ConsoleServer) -> None:
    name = create(console, two_orgs("ui-list"))
    sign_in(page, console.tokens.admin)
    expect(page.page).to_have_url(re.compile(r"/$|/networks$"))
    expect(page.page).to_have_title("Networks · baas console")
    row = page.page.locator(f'tr[data-network="{name}"]')
    expect(row).to_contain_text("local")
    expect(row).to_contain_text("2.5")
    expect(row).to_contain_text("etcdraft")
    expect(row).to_contain_text("not deployed")
    expect(row).to_contain_text("never deployed")
    page.shot("networks")


def test_network_detail_draws_the_topology_graph(page: Page, console: ConsoleServer) -> None:
    """The detail screen of examples/two-orgs.yaml: 7 peers and orderers in 3 organisation
    groups, one channel and its chaincode: 16 graph elements (3 groups, 7 nodes, a channel, a
    chaincode; the links of the 2 member organisations and the orderer organisation to the
    channel, and the chaincode's to its channel)."""
    name = create(console, two_orgs("ui-detail"))
    sign_in(page, console.tokens.admin)
    page.page.get_by_role("link", name=name, exact=True).click()
    expect(page.page).to_have_url(re.compile(rf"/networks/{name}$"))
    expect(page.page).to_have_title(f"Network {name} · baas console")
    graph = page.page.get_by_test_id("graph")
    expect(graph).to_have_attribute("data-nodes", "7")
    expect(graph).to_have_attribute("data-elements", "16")
    expect(page.page.get_by_test_id("running")).to_have_text("not deployed")
    nodes = page.page.locator("[data-node]")
    expect(nodes).to_have_count(7)
    for index in range(7):
        expect(nodes.nth(index)).to_have_attribute("data-health", "absent")
    expect(page.page.locator("canvas").first).to_be_visible()
    page.page.locator('[data-node="peer0.org1.example.com"]').click()
    panel = page.page.get_by_test_id("panel")
    expect(panel).to_contain_text("peer0.org1.example.com")
    expect(page.page.get_by_test_id("panel-health")).to_have_text("not deployed")
    expect(page.page).to_have_url(re.compile(r"\?select=node%3Apeer0\.org1\.example\.com$"))
    page.shot("network-detail")
    page.page.set_viewport_size({"width": 768, "height": 1024})  # a tablet held upright
    expect(graph).to_be_visible()
    expect(panel).to_be_visible()
    expect(page.page.locator("html")).to_have_js_property("scrollWidth", 768)  # no sideways scroll
    page.shot("network-detail-768")


def wide_topology(orgs: int = 20, peers: int = 3) -> str:
    """A network of ``orgs`` peer organisations of ``peers`` peers each, 3 orderers and one
    channel they all belong to (named ``member<n>``: no token of the suite is scoped to one)."""
    lines = [
        "apiVersion: baas/v1alpha1",
        "kind: Network",
        "metadata:",
        f"  name: ui-wide-{orgs}",
        "spec:",
        "  domain: example.com",
        "  organizations:",
        "    - name: ordererorg",
        "      mspId: OrdererMSP",
        "      orderers: [{name: orderer0}, {name: orderer1}, {name: orderer2}]",
    ]
    for i in range(1, orgs + 1):
        lines += [f"    - name: member{i}", f"      mspId: Member{i}MSP", "      peers:"]
        lines += [f"        - name: peer{p}" for p in range(peers)]
    members = ", ".join(f"member{i}" for i in range(1, orgs + 1))
    lines += ["  channels:", "    - name: everyone", f"      organizations: [{members}]"]
    return "\n".join(lines) + "\n"


def test_a_20_organisation_network_is_drawn(page: Page, console: ConsoleServer) -> None:
    """20 organisations of 3 peers and 3 orderers: all 63 nodes drawn. How long the first
    drawing took is printed (the README's figure), not asserted."""
    name = create(console, wide_topology())
    sign_in(page, console.tokens.admin, at=f"/networks/{name}")
    graph = page.page.get_by_test_id("graph")
    expect(graph).to_have_attribute("data-nodes", "63")
    expect(graph).to_have_attribute("data-draw-ms", re.compile(r"^\d+(\.\d)?$"))
    expect(page.page.locator("[data-node]")).to_have_count(63)
    print(f"\n20 organisations / 63 nodes drawn in {graph.get_attribute('data-draw-ms')} ms")
    page.shot("network-detail-20-orgs")


def test_a_deep_link_reloads_to_the_same_screen(page: Page, console: ConsoleServer) -> None:
    name = create(console, two_orgs("ui-deep"))
    target = f"/networks/{name}?select=node%3Apeer1.org2.example.com"
    sign_in(page, console.tokens.admin, at=target)  # signing in returns to where it was going
    expect(page.page.get_by_test_id("panel")).to_contain_text("peer1.org2.example.com")
    page.page.reload()
    expect(page.page).to_have_title(f"Network {name} · baas console")
    expect(page.page.get_by_test_id("graph")).to_have_attribute("data-nodes", "7")
    expect(page.page.get_by_test_id("panel")).to_contain_text("peer1.org2.example.com")
    page.page.go_back()  # the history holds the screens, not the sign-in form
    page.page.go_forward()
    expect(page.page.get_by_role("heading", level=1)).to_have_text(f"Network {name}")


def test_sign_out_clears_the_token(page: Page, console: ConsoleServer) -> None:
    sign_in(page, console.tokens.viewer)
    assert stored_token(page) == console.tokens.viewer
    page.page.get_by_role("button", name="Sign out").click()
    expect(page.page).to_have_url(re.compile(r"/signin"))
    expect(page.page.get_by_role("status")).to_contain_text("You signed out")
    assert stored_token(page) is None
    page.page.goto("/networks")
    expect(page.page).to_have_url(re.compile(r"/signin\?next=%2Fnetworks"))


def test_a_token_refused_later_returns_to_sign_in(page: Page, console: ConsoleServer) -> None:
    page.log.expect(REFUSED_LOAD)
    create(console, two_orgs("ui-list"))
    sign_in(page, console.tokens.admin)
    # Every row filled in: no call of this page is left to be answered with the bad token.
    expect(page.page.get_by_test_id("networks")).to_be_visible()
    expect(page.page.locator("td.running.pending")).to_have_count(0)
    page.page.evaluate("() => sessionStorage.setItem('baas.token', 'baas_revoked')")
    page.page.goto("/networks")
    expect(page.page).to_have_url(re.compile(r"/signin\?next=%2Fnetworks"))
    expect(page.page.get_by_role("status")).to_contain_text("Your session ended")
    assert stored_token(page) is None


def test_a_network_the_role_may_not_see_says_so(page: Page, console: ConsoleServer) -> None:
    page.log.expect(REFUSED_LOAD)
    name = create(console, two_orgs("ui-hidden"))
    sign_in(page, console.tokens.outsider)  # an org-admin of an organisation in no network
    expect(page.page.get_by_test_id("empty")).to_contain_text("No networks yet")
    page.shot("networks-empty")
    page.page.goto(f"/networks/{name}")
    problem = page.page.get_by_test_id("problem")
    expect(problem).to_contain_text("Your token's role does not allow this")
    page.shot("forbidden")


def test_a_deployment_started_in_the_console_shows_its_outcome(
    page: Page, console: ConsoleServer
) -> None:
    """Deploy (up)… on a network's screen shows the plan; its confirmation opens the
    deployment's screen. Without Fabric
    binaries the ``up`` fails in its preflight: the screen shows the outcome, the failure's
    message and hint, and no cancel button once it ended; the list links to it."""
    name = create(console, two_orgs("ui-deploy"))
    sign_in(page, console.tokens.admin, at=f"/networks/{name}")
    page.page.get_by_role("link", name="Deploy (up)…").click()
    expect(page.page.get_by_test_id("plan-changes")).to_contain_text("start peer0.org1")
    page.page.get_by_role("button", name="Confirm and deploy (up)").click()
    expect(page.page).to_have_url(re.compile(rf"/networks/{name}/deployments/dep_[0-9a-f]{{16}}$"))
    deployment = page.page.url
    expect(page.page.get_by_test_id("job-state")).to_contain_text("failed")
    error = page.page.get_by_test_id("job-error")
    expect(error).to_contain_text("It failed")
    expect(error).to_contain_text("What to do:")
    expect(page.page.get_by_role("button", name="Cancel")).to_have_count(0)
    page.shot("deployment-failed")
    page.page.get_by_role("link", name="Networks", exact=True).click()
    page.page.locator(f'tr[data-network="{name}"]').get_by_role("link", name="up failed").click()
    expect(page.page).to_have_url(deployment)


def test_a_viewer_may_not_deploy(page: Page, console: ConsoleServer) -> None:
    """A viewer is shown no Deploy button (its role may not, says ``/whoami``); a deployer
    scoped to org1 is, and its up of a network never deployed (which org2 must sign too) is
    refused with the API's reason."""
    page.log.expect(REFUSED_LOAD)
    name = create(console, two_orgs("ui-viewer"))
    sign_in(page, console.tokens.viewer, at=f"/networks/{name}")
    expect(page.page.get_by_test_id("whoami")).to_have_attribute("data-role", "viewer")
    expect(page.page.get_by_test_id("not-deployed")).to_contain_text("A token whose role may")
    expect(page.page.get_by_role("link", name="Deploy (up)…")).to_have_count(0)
    page.page.get_by_role("button", name="Sign out").click()
    sign_in(page, console.tokens.deployer1, at=f"/networks/{name}")
    page.page.get_by_role("link", name="Deploy (up)…").click()
    page.page.get_by_role("button", name="Confirm and deploy (up)").click()
    expect(page.page.get_by_test_id("problem")).to_contain_text(
        "Your token's role does not allow this"
    )
    expect(page.page).to_have_url(re.compile(rf"/networks/{name}/plan$"))


def test_an_unknown_path_says_where_to_go(page: Page, console: ConsoleServer) -> None:
    sign_in(page, console.tokens.admin, at="/no/such/screen")
    expect(page.page).to_have_title("Page not found · baas console")
    page.page.get_by_role("link", name="Go to the networks list").click()
    expect(page.page).to_have_title("Networks · baas console")


def test_a_sign_in_link_carries_the_token_in_its_fragment(
    page: Page, console: ConsoleServer
) -> None:
    """``make demo`` prints ``/signin?next=…#token=…``: opening it signs in and lands on
    ``next``; the token is gone from the address bar (the fragment never reaches the server)."""
    name = create(console, two_orgs("ui-link"))
    page.page.goto(f"/signin?next=%2Fnetworks%2F{name}#token={console.tokens.viewer}")
    expect(page.page).to_have_title(f"Network {name} · baas console")
    assert console.tokens.viewer not in page.page.url
    assert stored_token(page) == console.tokens.viewer
